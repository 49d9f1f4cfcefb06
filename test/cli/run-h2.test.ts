/**
 * HTTP/2 through the real `authsome run` (issue 16): curl --http2 and an h2-only Node client
 * (test/fixtures/run/h2-client.mjs) reach a real node:http2 upstream; the upstream sees h2 and
 * the key, the child never does. Streams: large bodies both ways, a ping-pong bidi stream with
 * trailers, 100 concurrent streams on one connection, a GOAWAY mid-stream, a reset stream; the
 * `:authority` check; and the HTTP/1.1 leak cases over h2 (authsome's headers, scrubbed echoes,
 * tripwires).
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { createCertificateAuthority, createMemoryCaStore } from "../../src/proxy/ca.ts";
import { runCli, tempHome } from "../helpers/cli.ts";
import { startH2Upstream, type H2Upstream } from "../helpers/h2-upstream.ts";
import { patternBytes } from "../helpers/proxy-upstream.ts";
import { currentRuntime, repoRoot } from "../helpers/spawn-runtime.ts";

const KEY = "acme-h2-key-0123456789";
const OTHER_KEY = "other-h2-key-9876543210";
let home: Awaited<ReturnType<typeof tempHome>>;
let upstream: H2Upstream;
let env: Record<string, string>;
let base: string;

before(async () => {
  home = await tempHome();
  const upstreamCa = await createCertificateAuthority(createMemoryCaStore());
  upstream = await startH2Upstream(upstreamCa);
  const caFile = join(home.home, "upstream-ca.pem");
  await writeFile(caFile, upstreamCa.caCertPem());
  const resolve = ["api", "other"].map((h) => `${h}.example.test:${upstream.port}:127.0.0.1`).join(",");
  env = { ...home.env, AUTHSOME_UPSTREAM_RESOLVE: resolve, AUTHSOME_UPSTREAM_CA: caFile, ...(DENO_H2 ? { AUTHSOME_HTTP2: "1" } : {}) };
  base = `https://api.example.test:${upstream.port}`;
  const acme = join(home.home, "acme.json");
  await writeFile(acme, JSON.stringify({ name: "acme", authType: "api_key", inject: [{ host: "api.example.test" }], env: { ACME_API_KEY: "api_key" } }));
  // Another provider's host, so that a tunnel to it is intercepted (tripwires look there).
  const other = join(home.home, "other.json");
  await writeFile(other, JSON.stringify({ name: "other", authType: "api_key", inject: [{ host: "other.example.test" }] }));
  for (const [args, input] of [[["providers", "add", acme], ""], [["login", "acme"], KEY], [["providers", "add", other], ""], [["login", "other"], OTHER_KEY]] as const) {
    const r = await runCli([...args], { env, input });
    assert.equal(r.code, 0, r.stderr);
  }
});
after(async () => {
  await upstream.close();
  await home.cleanup();
});

interface H2Result {
  status: number;
  headers: Record<string, string | string[]>;
  trailers: Record<string, string> | null;
  body: string | { bytes: number; sha256: string };
  rstCode: number;
  error: string | null;
}

/** Runs the h2-only client under `authsome run` against `origin` with these waves of streams. */
async function h2Client(origin: string, waves: object[][]): Promise<{ alpn: string; results: H2Result[]; stdout: string }> {
  const r = await runCli(["run", "--", "node", join(repoRoot, "test/fixtures/run/h2-client.mjs"), origin, JSON.stringify(waves)], { env });
  assert.equal(r.code, 0, r.stderr);
  const parsed = JSON.parse(r.stdout) as { alpn: string; results: H2Result[] };
  return { ...parsed, stdout: r.stdout };
}

const seen = (path: string) => upstream.requests.find((q) => q.path === path);

// The CLI runs on the runtime the test runs on. On Deno the proxy offers h2 only with
// AUTHSOME_HTTP2=1 (Deno 2.9's node:http2 can abort the process when a client closes its
// session: src/proxy/h2-server.ts), so h2-only clients are tested on Node; on Deno the
// fallback is (last test).
// AUTHSOME_TEST_DENO_H2=1 runs the h2 tests on Deno too, with AUTHSOME_HTTP2=1 (to see whether the abort is still there).
const DENO_H2 = currentRuntime() === "deno" && process.env["AUTHSOME_TEST_DENO_H2"] === "1";
const h2 = currentRuntime() === "node" || DENO_H2;
const NO_H2 = h2 ? false : "the proxy on Deno offers HTTP/1.1 only by default (a Deno 2.9 node:http2 abort; see src/proxy/h2-server.ts)";
const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

test("curl --http2: the upstream gets h2 (where offered) and the key, the child never sees the key", async () => {
  const r = await runCli(["run", "--", "curl", "-sS", "--fail", "--http2", "-w", "\\n%{http_version}", `${base}/curl-h2`], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, h2 ? /\n2$/ : /\n1\.1$/, "curl spoke HTTP/2 to the proxy (HTTP/1.1 where it is not offered)");
  assert.equal(seen("/curl-h2")?.version, h2 ? "2.0" : "1.1");
  assert.equal(seen("/curl-h2")?.headers.authorization, `Bearer ${KEY}`);
  assert.ok(!r.stdout.includes(KEY));
  const audit = await runCli(["audit", "--json"], { env });
  const entries = (JSON.parse(audit.stdout) as { entries: { action: string; host?: string; status?: number }[] }).entries;
  assert.ok(entries.some((e) => e.action === "inject" && e.host === "api.example.test" && e.status === 200), "the h2 injection was audited");
});

test("an h2-only Node client: injection, 8 MiB up and down, a ping-pong bidi stream with trailers", { skip: NO_H2 }, async () => {
  const big = 8 * 1024 * 1024;
  const { alpn, results, stdout } = await h2Client(base, [[
    { path: "/node-h2", headers: { authorization: "Bearer agent-own" } },
    { path: "/upload", bytes: big },
    { path: `/big?bytes=${big}`, hash: true },
    { path: "/bidi", chunks: ["one;", "two;", "three;"] },
    // Each message ends in what could begin the key ("ac" of "acme-..."): the tripwire scan and
    // the scrubber hold it back, and let it go once the other side is waiting (no deadlock).
    { path: "/bidi", chunks: ["one;ac", "two;ac", "three;ac"] },
  ]]);
  assert.equal(alpn, "h2");
  const [plain, upload, download, bidi, held] = results;
  assert.equal(plain?.status, 200);
  assert.equal(seen("/node-h2")?.version, "2.0");
  assert.equal(seen("/node-h2")?.headers.authorization, `Bearer ${KEY}`, "the injected value replaced the agent's");
  assert.deepEqual(JSON.parse(String(upload?.body)), { bytes: big, sha256: sha256(Buffer.alloc(big, 0x61)) });
  assert.deepEqual(download?.body, { bytes: big, sha256: sha256(patternBytes(0, big)) });
  assert.equal(bidi?.body, "one;two;three;");
  assert.equal(bidi?.trailers?.["x-done"], "yes", "trailers passed through");
  assert.equal(held?.body, "one;actwo;acthree;ac");
  assert.ok(!stdout.includes(KEY));
});

test("100 concurrent streams on one connection, over one upstream session", { skip: NO_H2 }, async () => {
  const sessionsBefore = upstream.sessions;
  const released = upstream.waiting(100).then(() => upstream.release());
  const { alpn, results } = await h2Client(base, [Array.from({ length: 100 }, (_, i) => ({ path: `/wait?n=${i}` }))]);
  await released;
  assert.equal(alpn, "h2");
  assert.deepEqual(new Set(results.map((r) => r.status)), new Set([200]));
  assert.ok(upstream.sessions - sessionsBefore <= 1, `${upstream.sessions - sessionsBefore} upstream sessions`);
  for (let i = 0; i < 100; i += 1) assert.equal(seen(`/wait?n=${i}`)?.headers.authorization, `Bearer ${KEY}`);
});

test("a GOAWAY mid-stream and a reset stream: each touches only its own stream", { skip: NO_H2 }, async () => {
  const { results } = await h2Client(base, [
    [{ path: "/goaway" }, { path: "/big?bytes=1048576", hash: true }, { path: "/rst" }],
    [{ path: "/after-goaway" }],
  ]);
  const [goaway, big, rst, next] = results;
  assert.equal(goaway?.body, "before-goaway;after-goaway");
  assert.deepEqual(big?.body, { bytes: 1048576, sha256: sha256(patternBytes(0, 1048576)) });
  assert.equal(rst?.rstCode, 11, "the upstream's ENHANCE_YOUR_CALM reached the agent's stream");
  assert.equal(next?.status, 200);
  assert.equal(seen("/after-goaway")?.headers.authorization, `Bearer ${KEY}`);
});

test(":authority naming another host than the CONNECT target is refused (421), nothing sent", { skip: NO_H2 }, async () => {
  const { results } = await h2Client(base, [[{ path: "/misdirected", authority: `other.example.test:${upstream.port}` }]]);
  assert.equal(results[0]?.status, 421);
  assert.equal(seen("/misdirected"), undefined);
});

test("a Node child's plain http2.connect() goes through the proxy (the preload tunnels it), as the AWS SDK's streaming handler does", { skip: NO_H2 }, async () => {
  const script = `const http2 = require("node:http2");
const session = http2.connect(process.argv[1]);
session.on("error", (e) => { console.error(String(e)); process.exit(1); });
const req = session.request({ ":path": "/preload-h2" });
let status = 0, body = "";
req.on("response", (h) => (status = h[":status"]));
req.on("data", (d) => (body += d));
req.on("end", () => { console.log(JSON.stringify({ status, body })); session.close(); });`;
  const r = await runCli(["run", "--", "node", "-e", script, base], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.equal((JSON.parse(r.stdout) as { status: number }).status, 200);
  assert.equal(seen("/preload-h2")?.version, "2.0");
  assert.equal(seen("/preload-h2")?.headers.authorization, `Bearer ${KEY}`);
  assert.ok(!r.stdout.includes(KEY));
});

test("the AWS SDK's HTTP/2 handler (NodeHttp2Handler, the Bedrock client's default) goes through the proxy too", { skip: NO_H2 }, async () => {
  const r = await runCli(["run", "--", "node", join(repoRoot, "test/fixtures/run/h2-sdk.mjs"), base, "/sdk-h2"], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.equal((JSON.parse(r.stdout) as { status: number }).status, 200);
  assert.equal(seen("/sdk-h2")?.version, "2.0");
  assert.equal(seen("/sdk-h2")?.headers.authorization, `Bearer ${KEY}`);
});

test("a Host naming another host is refused 421 over HTTP/1.1 as over h2 (curl -H Host), nothing sent", async () => {
  for (const version of ["--http1.1", "--http2"]) {
    const path = `/misdirected-curl${version}`;
    const r = await runCli(["run", "--", "curl", "-sS", version, "-H", `Host: other.example.test:${upstream.port}`, "-w", "\\n%{http_code}", `${base}${path}`], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /another host[^]*\n421$/, version);
    assert.equal(seen(path), undefined, version);
  }
});

test("leak cases over h2: authsome's headers dropped, echoes scrubbed, tripwires trip", { skip: NO_H2 }, async () => {
  const { results, stdout } = await h2Client(base, [[
    { path: "/headers-h2", headers: { "x-authsome-connection": "default", "x-authsome-probe": "1", "proxy-authorization": "Basic Zm9vOmJhcg==" } },
    { path: "/echo?in=body" }, { path: "/echo?in=header" }, { path: "/echo?in=trailer" },
  ]]);
  const names = (seen("/headers-h2")?.rawHeaders ?? []).filter((_, i) => i % 2 === 0);
  assert.deepEqual(names.filter((n) => n.startsWith("proxy-") || n.startsWith("x-authsome-")), []);
  assert.ok(!stdout.includes(KEY), stdout);
  assert.match(String(results[1]?.body), /\[authsome:redacted\]/);
  assert.match(String(results[2]?.headers["x-echo"]), /\[authsome:redacted\]/);
  assert.match(String(results[3]?.trailers?.["x-echo"]), /\[authsome:redacted\]/);
  // This run's acme placeholder, to another provider's host: in a header, then in a body.
  const other = `https://other.example.test:${upstream.port}`;
  const tripped = await h2Client(other, [[{ path: "/leak-header", headers: { "x-leak": "env:ACME_API_KEY" } }, { path: "/leak-body", body: "env:ACME_API_KEY" }]]);
  assert.deepEqual(tripped.results.map((r) => r.status), [403, 403]);
  assert.match(String(tripped.results[0]?.body), /placeholder/);
  assert.equal(seen("/leak-header"), undefined, "a header that trips never leaves");
  const audit = await runCli(["audit", "--json"], { env });
  const exfiltrations = (JSON.parse(audit.stdout) as { entries: { action: string; host?: string }[] }).entries.filter((e) => e.action === "egress.exfiltration");
  assert.ok(exfiltrations.filter((e) => e.host === "other.example.test").length >= 2, JSON.stringify(exfiltrations));
});

test("a 403 insufficient_scope over h2 is recorded as over HTTP/1.1 (audit mcp_step_up)", { skip: NO_H2 }, async () => {
  const r = await runCli(["run", "--", "curl", "-sS", "--http2", "-o", "/dev/null", "-w", "%{http_version} %{http_code}", `${base}/scoped`], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), "2 403");
  const audit = JSON.parse((await runCli(["audit", "--json"], { env })).stdout) as { entries: { action: string; provider?: string; status?: number }[] };
  assert.ok(audit.entries.some((e) => e.action === "mcp_step_up" && e.provider === "acme" && e.status === 403), JSON.stringify(audit.entries.slice(-3)));
});

test("Python httpx with http2=True (Debian's python3-h2)", async () => {
  const script = `import httpx
with httpx.Client(http2=True) as c:
    r = c.get("${base}/httpx-h2")
    print(r.http_version, r.status_code)`;
  // Straight under run: httpx builds a transport for every proxy variable at start and refuses a
  // SOCKS one without its socksio extra, so only a `deno` child is given ALL_PROXY (child.ts).
  const r = await runCli(["run", "--", "/usr/bin/python3", "-c", script], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), h2 ? "HTTP/2 200" : "HTTP/1.1 200");
  assert.equal(seen("/httpx-h2")?.version, h2 ? "2.0" : "1.1");
  assert.equal(seen("/httpx-h2")?.headers.authorization, `Bearer ${KEY}`);
});

test("without h2 on offer (AUTHSOME_HTTP2=0 on Node, the default on Deno): HTTP/1.1 for every client, never translated", async () => {
  const off = { ...env, AUTHSOME_HTTP2: h2 ? "0" : "" };
  const curl = await runCli(["run", "--", "curl", "-sS", "--fail", "--http2", "-w", "\\n%{http_version}", `${base}/h2-off`], { env: off });
  assert.equal(curl.code, 0, curl.stderr);
  assert.match(curl.stdout, /\n1\.1$/);
  assert.equal(seen("/h2-off")?.headers.authorization, `Bearer ${KEY}`);
  const only = await runCli(["run", "--", "node", join(repoRoot, "test/fixtures/run/h2-client.mjs"), base, JSON.stringify([[{ path: "/h2-only-off" }]])], { env: off });
  assert.notEqual(only.code, 0, "an h2-only client cannot connect");
  assert.match(only.stderr, /no.application.protocol|ALPN/i);
  assert.equal(seen("/h2-only-off"), undefined);
});
