/**
 * `authsome run` end to end, as an attacker would check it: the run's proxy credential and
 * agent-set `X-Authsome-*` headers never reach an upstream, whatever the client. Real clients
 * (Deno fetch, Node fetch and node:http through the preload, curl) against real local upstreams.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { createCertificateAuthority, createMemoryCaStore } from "../../src/proxy/ca.ts";
import { runCli, tempHome } from "../helpers/cli.ts";
import { addAcme } from "../helpers/cli-upstream.ts";
import { startHttpUpstream, startHttpsUpstream, type RecordedRequest, type TestUpstream } from "../helpers/proxy-upstream.ts";
import { repoRoot } from "../helpers/spawn-runtime.ts";

const KEY = "acme-key-leaks-0001";
let home: Awaited<ReturnType<typeof tempHome>>;
let secure: TestUpstream;
let plain: TestUpstream;
let env: Record<string, string>;

before(async () => {
  home = await tempHome();
  const upstreamCa = await createCertificateAuthority(createMemoryCaStore());
  secure = await startHttpsUpstream(() => upstreamCa);
  plain = await startHttpUpstream();
  const caFile = join(home.home, "upstream-ca.pem");
  await writeFile(caFile, upstreamCa.caCertPem());
  const resolve = [`api.example.test:${secure.port}:127.0.0.1`, `other.example.test:${secure.port}:127.0.0.1`, `other.example.test:${plain.port}:127.0.0.1`].join(",");
  env = { ...home.env, AUTHSOME_UPSTREAM_RESOLVE: resolve, AUTHSOME_UPSTREAM_CA: caFile };
  await addAcme(home.home, env, KEY, { inject: [{ host: "api.example.test" }] });
});
after(async () => {
  await Promise.all([secure.close(), plain.close()]);
  await home.cleanup();
});

/** authsome's own header names the upstream received (none may arrive). */
function authsomeHeaders(seen: RecordedRequest | undefined): string[] {
  return (seen?.rawHeaders ?? []).filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase()).filter((n) => n.startsWith("proxy-") || n.startsWith("x-authsome-"));
}

const run = (args: string[]) => runCli(["run", ...args], { env });

test("a Deno child: the run credential reaches neither an undeclared HTTPS host nor a plain one", async () => {
  const deno = join(repoRoot, "node_modules/.bin/deno");
  if (spawnSync(deno, ["--version"]).status !== 0) return assert.fail("deno binary missing");
  // The blind tunnel shows the upstream's own certificate (a test CA the child is not given):
  // the agent trusts it in its own client, which still takes the proxy from the environment.
  const script = `const client = Deno.createHttpClient({ caCerts: [Deno.readTextFileSync(Deno.env.get("AUTHSOME_UPSTREAM_CA"))] });
for (const u of Deno.args) { const r = await fetch(u, { client, headers: { "x-authsome-connection": "default", "x-authsome-probe": "1" } }); console.log(r.status); await r.text(); }
console.log(Deno.env.get("HTTPS_PROXY"));`;
  const urls = [`https://other.example.test:${secure.port}/deno-blind`, `https://api.example.test:${secure.port}/deno-declared`, `http://other.example.test:${plain.port}/deno-plain`];
  const r = await run(["--", deno, "eval", "--quiet", script, ...urls]);
  assert.equal(r.code, 0, r.stderr);
  const token = /_:([A-Za-z0-9_-]+)@/.exec(r.stdout)?.[1];
  assert.ok(token !== undefined, "the child saw its proxy URL");
  const basic = Buffer.from(`_:${token}`).toString("base64");
  const blind = secure.requests.find((q) => q.url === "/deno-blind");
  const declared = secure.requests.find((q) => q.url === "/deno-declared");
  const plainSeen = plain.requests.find((q) => q.url === "/deno-plain");
  assert.ok(blind && declared && plainSeen, "every request arrived");
  for (const seen of [blind, declared, plainSeen]) {
    const text = JSON.stringify(seen.rawHeaders);
    assert.ok(!text.includes(token) && !text.includes(basic), `no run credential at ${seen.url}`);
  }
  // Agent-set X-Authsome-* headers: stripped wherever the proxy sees the request.
  assert.deepEqual(authsomeHeaders(declared), []);
  assert.deepEqual(authsomeHeaders(plainSeen), []);
  assert.equal(declared.headers.authorization, `Bearer ${KEY}`);
});

test("a Node child: X-Authsome-* over plain http (CONNECT from the preload, fetch) never reaches the upstream", async () => {
  const script = `import http from "node:http";
const url = process.argv[1];
const viaHttp = () => new Promise((resolve, reject) => http.get(url + "-http", { headers: { "X-Authsome-Connection": "default", "X-Authsome-Probe": "1" } }, (res) => { res.resume(); res.on("end", () => resolve(res.statusCode)); }).on("error", reject));
const viaFetch = async () => { const r = await fetch(url + "-fetch", { headers: { "X-Authsome-Probe": "1" } }); await r.text(); return r.status; };
console.log(await viaHttp(), await viaFetch());`;
  const r = await run(["--", "node", "--input-type=module", "-e", script, `http://other.example.test:${plain.port}/node`]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), "200 200");
  for (const path of ["/node-http", "/node-fetch"]) {
    const seen = plain.requests.find((q) => q.url === path);
    assert.ok(seen, `${path} arrived`);
    assert.deepEqual(authsomeHeaders(seen), [], path);
  }
});

test("curl with agent-set X-Authsome-* headers, through a tunnel and in absolute form", async () => {
  const headers = ["-H", "X-Authsome-Probe: 1", "-H", "X-Authsome-Connection: default"];
  for (const extra of [[], ["--proxytunnel"]]) {
    const path = `/curl${extra.length}`;
    const r = await run(["--", "curl", "-sS", "--fail", ...extra, ...headers, `http://other.example.test:${plain.port}${path}`]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(authsomeHeaders(plain.requests.find((q) => q.url === path)), [], path);
  }
});

test("AUTHSOME_UPSTREAM_RESOLVE in the run's proxy: an entry for one port never applies to another", async () => {
  // api.example.test is overridden for the HTTPS upstream's port only; the plain upstream's port
  // of the same name must be looked up for real (and .test never resolves): 502, nothing arrives.
  const r = await run(["--", "curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", `http://api.example.test:${plain.port}/no-override`]);
  assert.equal(r.stdout.trim(), "502", r.stderr);
  assert.equal(plain.requests.find((q) => q.url === "/no-override"), undefined);
  const ok = await run(["--", "curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", `http://other.example.test:${plain.port}/overridden`]);
  assert.equal(ok.stdout.trim(), "200", ok.stderr);
});
