// A credential goes only where its rule says, over the scheme it allows, and the proxy's own
// headers never leave it.
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { connectRaw, curl, exchange, proxyAuth, tlsThroughProxy } from "../helpers/proxy-clients.ts";
import { SECRET, WORK_SECRET, startProxyFixture, type ProxyFixture } from "../helpers/proxy-fixture.ts";
import type { RecordedRequest } from "../helpers/proxy-upstream.ts";
import tls from "node:tls";

/** Every header name the upstream received, lower-cased. */
function headerNames(seen: RecordedRequest | undefined): string[] {
  return (seen?.rawHeaders ?? []).filter((_, i) => i % 2 === 0).map((name) => name.toLowerCase());
}

describe("injection stays where it belongs", () => {
  let fx: ProxyFixture;
  before(async () => {
    fx = await startProxyFixture();
  });
  after(() => fx.close());

  it("an undeclared host is tunnelled untouched: its own certificate, no credential", async () => {
    const secure = await tlsThroughProxy(fx, "other.example.test", fx.api.port);
    const own = new X509Certificate((await fx.upstreamCa.leafFor("other.example.test")).certPem);
    const peer = new X509Certificate(secure.getPeerCertificate().raw);
    assert.equal(peer.fingerprint256, own.fingerprint256);
    assert.ok(!peer.checkIssued(new X509Certificate(fx.ca.caCertPem())));
    const answer = await exchange(secure, "GET /blind HTTP/1.1\r\nHost: other.example.test\r\nConnection: close\r\n\r\n");
    assert.match(answer, /^HTTP\/1\.1 200/);
    assert.equal(fx.api.requests.at(-1)?.url, "/blind");
    assert.equal(fx.api.requests.at(-1)?.headers.authorization, undefined);
    assert.ok(!fx.injector.decisions.some((d) => d.url.includes("other.example.test")));
  });

  it("a declared host is intercepted with a leaf from the proxy CA", async () => {
    const secure = await tlsThroughProxy(fx, "api.example.test", fx.api.port, fx.ca.caCertPem());
    const leaf = new X509Certificate(secure.getPeerCertificate().raw);
    assert.ok(leaf.checkIssued(new X509Certificate(fx.ca.caCertPem())));
    assert.equal(secure.alpnProtocol, "http/1.1");
    secure.destroy();
  });

  it("a redirect to another host carries no credential there", async () => {
    const to = `https://attacker.example.test:${fx.attacker.port}/landing`;
    const first = await curl(fx, `https://api.example.test:${fx.api.port}/redirect?to=${encodeURIComponent(to)}`);
    assert.equal(first.status, 302, "the proxy passes the 302 through, it never follows it");
    const followed = await curl(fx, `https://api.example.test:${fx.api.port}/redirect?to=${encodeURIComponent(to)}`, ["-L"]);
    assert.equal(followed.exit, 0, followed.stderr);
    assert.equal(fx.api.requests.at(-1)?.headers.authorization, SECRET);
    assert.equal(fx.attacker.requests.at(-1)?.url, "/landing");
    assert.equal(fx.attacker.requests.at(-1)?.headers.authorization, undefined);
  });

  it("an https-only rule gets nothing over plain http (absolute form and tunnel)", async () => {
    const url = `http://api.example.test:${fx.plain.port}/plain`;
    for (const args of [[], ["--proxytunnel"]]) {
      const result = await curl(fx, url, args);
      assert.equal(result.status, 200, result.stderr);
      assert.equal(fx.plain.requests.at(-1)?.url, "/plain");
      assert.equal(fx.plain.requests.at(-1)?.headers.authorization, undefined);
    }
    assert.ok(fx.injector.decisions.some((d) => d.url === `http://api.example.test:${fx.plain.port}/plain`));
    // A rule that allows http:// does inject on both paths.
    for (const args of [[], ["--proxytunnel"]]) {
      await curl(fx, `http://plain.example.test:${fx.plain.port}/allowed`, args);
      assert.equal(fx.plain.requests.at(-1)?.headers.authorization, "Bearer plain-secret");
    }
  });

  it("injected values replace the agent's, whatever their case", async () => {
    await curl(fx, `https://api.example.test:${fx.api.port}/replace`, ["-H", "AUTHORIZATION: Bearer agent-own"]);
    const seen = fx.api.requests.at(-1);
    assert.equal(seen?.headers.authorization, SECRET);
    assert.equal(headerNames(seen).filter((name) => name === "authorization").length, 1);
    await curl(fx, `https://query.example.test:${fx.api.port}/q?api_key=agent&x=1`);
    const query = new URL(fx.api.requests.at(-1)?.url ?? "", "https://x.invalid").searchParams;
    assert.deepEqual(query.getAll("api_key"), ["query-secret"]);
    assert.equal(query.get("x"), "1");
  });

  it("Proxy-*, X-Authsome-* and Connection-listed headers never reach the upstream", async () => {
    const extra = ["-H", "X-Authsome-Connection: default", "-H", "X-Authsome-Debug: 1", "-H", "Proxy-Authorization: Basic Zm9vOmJhcg==",
      "-H", "Connection: keep-alive, X-Drop-Me", "-H", "X-Drop-Me: 1", "-H", "X-Keep-Me: 1"];
    await curl(fx, `https://api.example.test:${fx.api.port}/headers`, extra);
    await curl(fx, `http://plain.example.test:${fx.plain.port}/headers`, extra);
    for (const seen of [fx.api.requests.at(-1), fx.plain.requests.at(-1)]) {
      const names = headerNames(seen);
      assert.equal(seen?.url, "/headers");
      assert.ok(names.includes("x-keep-me"));
      assert.deepEqual(names.filter((n) => n.startsWith("proxy-") || n.startsWith("x-authsome-") || n === "x-drop-me"), []);
    }
  });

  it("a request inside a tunnel naming another host (Host, absolute form) is refused 421, as over h2; nothing is sent", async () => {
    const before = { api: fx.api.requests.length, attacker: fx.attacker.requests.length };
    const hosted = await curl(fx, `https://api.example.test:${fx.api.port}/hosted`, ["-H", `Host: attacker.example.test:${fx.attacker.port}`]);
    assert.equal(hosted.status, 421);
    assert.match(hosted.body, /another host/);
    const secure = await tlsThroughProxy(fx, "api.example.test", fx.api.port, fx.ca.caCertPem());
    const otherPort = await exchange(secure, "GET /port HTTP/1.1\r\nHost: api.example.test\r\nConnection: close\r\n\r\n");
    assert.match(otherPort, /^HTTP\/1\.1 421 /);
    const absolute = await tlsThroughProxy(fx, "api.example.test", fx.api.port, fx.ca.caCertPem());
    const named = await exchange(absolute, `GET https://attacker.example.test:${fx.attacker.port}/x HTTP/1.1\r\nHost: api.example.test:${fx.api.port}\r\nConnection: close\r\n\r\n`);
    assert.match(named, /^HTTP\/1\.1 421 /);
    const twice = await tlsThroughProxy(fx, "api.example.test", fx.api.port, fx.ca.caCertPem());
    const doubled = await exchange(twice, `GET /twice HTTP/1.1\r\nHost: api.example.test:${fx.api.port}\r\nHost: attacker.example.test:${fx.attacker.port}\r\nConnection: close\r\n\r\n`);
    assert.match(doubled, /^HTTP\/1\.1 400 [^]*one Host field/);
    assert.deepEqual({ api: fx.api.requests.length, attacker: fx.attacker.requests.length }, before);
    // Nor can the request target name another host: `//host/x` is a path, sent to the CONNECT target.
    const pathy = await tlsThroughProxy(fx, "api.example.test", fx.api.port, fx.ca.caCertPem());
    await exchange(pathy, `GET //attacker.example.test:${fx.attacker.port}/x HTTP/1.1\r\nHost: api.example.test:${fx.api.port}\r\nConnection: close\r\n\r\n`);
    assert.equal(fx.api.requests.at(-1)?.url, `//attacker.example.test:${fx.attacker.port}/x`);
    assert.equal(fx.attacker.requests.length, before.attacker);
  });

  it("matches API.Example.TEST. as api.example.test", async () => {
    const { head, socket } = await connectRaw(fx.port, `API.Example.TEST.:${fx.api.port}`, [proxyAuth(fx)]);
    assert.match(head, /^HTTP\/1\.1 200/);
    const secure = tls.connect({ socket, servername: "api.example.test", ca: fx.ca.caCertPem() });
    const answer = await exchange(secure, `GET /upper HTTP/1.1\r\nHost: API.Example.TEST.:${fx.api.port}\r\nConnection: close\r\n\r\n`);
    assert.match(answer, /^HTTP\/1\.1 200/);
    assert.equal(fx.api.requests.at(-1)?.headers.authorization, SECRET);
    const viaCurl = await curl(fx, `https://API.Example.TEST.:${fx.api.port}/upper-curl`);
    assert.equal(viaCurl.status, 200, viaCurl.stderr);
    assert.equal(fx.api.requests.at(-1)?.headers.authorization, SECRET);
  });

  it("the proxy username and X-Authsome-Connection select the connection", async () => {
    const url = `https://api.example.test:${fx.api.port}/conn`;
    await curl(fx, url, [], `http://work:${fx.token}@127.0.0.1:${fx.port}`);
    assert.equal(fx.api.requests.at(-1)?.headers.authorization, WORK_SECRET);
    await curl(fx, url, ["-H", "X-Authsome-Connection: work"]);
    assert.equal(fx.api.requests.at(-1)?.headers.authorization, WORK_SECRET);
    assert.equal(fx.api.requests.at(-1)?.headers["x-authsome-connection"], undefined);
    await curl(fx, url);
    assert.equal(fx.api.requests.at(-1)?.headers.authorization, SECRET);
    assert.deepEqual(fx.events.at(-2), { provider: "example", connection: "work", host: "api.example.test", method: "GET", status: 200 });
  });
});
