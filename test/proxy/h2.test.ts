/**
 * HTTP/2 on intercepted tunnels (issue 16), in process: ALPN h2 offered only where the upstream
 * speaks it, per-stream injection through the egress pipeline, the `:authority` check,
 * authsome's headers dropped, responses (headers, body, trailers) scrubbed, one reused upstream
 * session for 100 concurrent streams, a GOAWAY mid-stream and resets that touch only their own
 * stream. Real node:http2 peers on both sides.
 */
import assert from "node:assert/strict";
import http2 from "node:http2";
import { after, before, describe, it } from "node:test";
import { createCertificateAuthority, createMemoryCaStore, type CertificateAuthority } from "../../src/proxy/ca.ts";
import { createProxy, type InjectionEvent, type Proxy } from "../../src/proxy/server.ts";
import { connectH2, h2Request, tunnelTls } from "../helpers/h2-client.ts";
import { startH2Upstream, type H2Upstream } from "../helpers/h2-upstream.ts";
import { createTestInjector, SECRET } from "../helpers/proxy-fixture.ts";
import { startHttpsUpstream, type TestUpstream } from "../helpers/proxy-upstream.ts";

describe("HTTP/2 through the intercepting proxy", () => {
  let ca: CertificateAuthority;
  let h2: H2Upstream;
  let h1: TestUpstream;
  let proxy: Proxy;
  let port: number;
  const token = "h2-test-token";
  const events: InjectionEvent[] = [];
  const connect = () => connectH2(port, token, "api.example.test", h2.port, ca.caCertPem());

  before(async () => {
    ca = await createCertificateAuthority(createMemoryCaStore());
    const upstreamCa = await createCertificateAuthority(createMemoryCaStore());
    h2 = await startH2Upstream(upstreamCa);
    h1 = await startHttpsUpstream(() => upstreamCa);
    const resolve = new Map([`api.example.test:${h2.port}`, `other.example.test:${h2.port}`, `api.example.test:${h1.port}`].map((k) => [k, "127.0.0.1"]));
    // Offered on both runtimes here (on Deno it is opt-in: src/proxy/h2-server.ts). Set only
    // while createProxy reads it: Deno runs test files in parallel threads of one process (set
    // for this whole file, every CLI another file spawned meanwhile, its environment copied from
    // process.env, and every proxy it made offered h2 on Deno, where the default is HTTP/1.1).
    const setting = process.env["AUTHSOME_HTTP2"];
    process.env["AUTHSOME_HTTP2"] = "1";
    try {
      proxy = createProxy({ injector: createTestInjector(), authenticate: (_u, p) => p === token, ca, upstream: { resolve, extraCaPem: upstreamCa.caCertPem() }, onInjection: (e) => events.push(e) });
    } finally {
      if (setting === undefined) delete process.env["AUTHSOME_HTTP2"];
      else process.env["AUTHSOME_HTTP2"] = setting;
    }
    ({ port } = await proxy.listen(0, "127.0.0.1"));
  });
  after(async () => {
    await proxy.close();
    await Promise.all([h2.close(), h1.close()]);
  });

  it("offers h2 only where the upstream speaks it", async () => {
    const toH2 = await tunnelTls(port, token, "api.example.test", h2.port, ca.caCertPem(), ["h2", "http/1.1"]);
    assert.equal(toH2.alpnProtocol, "h2");
    toH2.destroy();
    const toH1 = await tunnelTls(port, token, "api.example.test", h1.port, ca.caCertPem(), ["h2", "http/1.1"]);
    assert.equal(toH1.alpnProtocol, "http/1.1", "an HTTP/1.1 upstream: HTTP/1.1 towards the agent too, never translated");
    toH1.destroy();
  });

  it("injects per stream, replaces the agent's value and drops authsome's headers", async () => {
    const { session } = await connect();
    const answer = await h2Request(session, { ":path": "/inject", authorization: "Bearer agent-own", "x-authsome-connection": "default", "x-authsome-debug": "1", "proxy-authorization": "Basic Zm9vOmJhcg==", "x-keep-me": "1" });
    session.close();
    assert.equal(answer.status, 200);
    const seen = h2.requests.find((q) => q.path === "/inject");
    assert.equal(seen?.version, "2.0");
    assert.equal(seen?.headers.authorization, SECRET);
    assert.equal(seen?.headers["x-keep-me"], "1");
    const names = (seen?.rawHeaders ?? []).filter((_, i) => i % 2 === 0);
    assert.deepEqual(names.filter((n) => n.startsWith("proxy-") || n.startsWith("x-authsome-")), []);
    assert.equal(names.filter((n) => n === "authorization").length, 1);
    assert.deepEqual(events.at(-1), { provider: "example", connection: "default", host: "api.example.test", method: "GET", status: 200 });
  });

  it("refuses an :authority naming another host than the CONNECT target (421); the same host in another spelling passes", async () => {
    const { session } = await connect();
    const other = await h2Request(session, { ":path": "/elsewhere", ":authority": `other.example.test:${h2.port}` });
    const upper = await h2Request(session, { ":path": "/upper", ":authority": `API.Example.TEST.:${h2.port}` });
    const wrongPort = await h2Request(session, { ":path": "/port", ":authority": "api.example.test" });
    session.close();
    assert.equal(other.status, 421);
    assert.match(other.body.toString(), /another host/);
    assert.equal(wrongPort.status, 421);
    assert.equal(h2.requests.some((q) => q.path === "/elsewhere" || q.path === "/port"), false, "nothing reached the upstream");
    assert.equal(upper.status, 200);
    assert.equal(h2.requests.find((q) => q.path === "/upper")?.headers.authorization, SECRET);
  });

  it("scrubs the key from an echoing upstream's body, headers and trailers", async () => {
    const { session } = await connect();
    const answers = await Promise.all(["body", "header", "trailer"].map((where) => h2Request(session, { ":path": `/echo?in=${where}` })));
    session.close();
    const secret = SECRET.slice("Bearer ".length);
    for (const answer of answers) {
      assert.equal(answer.status, 200);
      const text = answer.body.toString() + JSON.stringify(answer.headers) + JSON.stringify(answer.trailers);
      assert.ok(!text.includes(secret), text);
    }
    // Bodies keep their length (a short secret gets the short marker); headers the full one.
    assert.match(answers[0]?.body.toString() ?? "", /"\[redacted\]\*+"/);
    assert.match(String(answers[1]?.headers["x-echo"]), /\[authsome:redacted\]/);
    assert.match(String(answers[2]?.trailers?.["x-echo"]), /\[authsome:redacted\]/);
  });

  it("carries 100 concurrent streams of one connection over one reused upstream session", async () => {
    const { session } = await connect();
    const sessionsBefore = h2.sessions;
    const waiting = h2.waiting(100).then(() => h2.release());
    const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => h2Request(session, { ":path": `/wait?i=${i}` })));
    await waiting;
    session.close();
    assert.deepEqual(new Set(answers.map((a) => a.status)), new Set([200]));
    assert.ok(h2.sessions - sessionsBefore <= 1, `${h2.sessions - sessionsBefore} upstream sessions for 100 streams`);
  });

  it("a GOAWAY mid-stream: the stream in progress completes, the others and the next ones too", async () => {
    const { session } = await connect();
    const [goaway, big] = await Promise.all([h2Request(session, { ":path": "/goaway" }), h2Request(session, { ":path": "/big?bytes=1048576" })]);
    const next = await h2Request(session, { ":path": "/after-goaway" });
    session.close();
    assert.equal(goaway.status, 200);
    assert.equal(goaway.body.toString(), "before-goaway;after-goaway");
    assert.equal(big.body.length, 1048576);
    assert.equal(next.status, 200, "a new upstream session took the next stream");
    assert.equal(h2.requests.find((q) => q.path === "/after-goaway")?.headers.authorization, SECRET);
  });

  it("an upstream reset reaches only its own stream, with its code", async () => {
    const { session } = await connect();
    const [reset, fine] = await Promise.all([h2Request(session, { ":path": "/rst" }), h2Request(session, { ":path": "/fine" })]);
    const after = await h2Request(session, { ":path": "/fine-after" });
    session.close();
    assert.equal(reset.rstCode, http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
    assert.equal(fine.status, 200);
    assert.equal(after.status, 200);
  });
});
