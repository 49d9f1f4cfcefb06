/**
 * A 401 over HTTP/2 through the real `authsome run` (issue 16), as over HTTP/1.1: the refused
 * token is marked expired, refreshed (a client-credentials provider against a real OAuth server,
 * oidc-provider) and the stream sent once more with the new token, when its body can be replayed
 * (none, or at most REPLAY_MAX bytes); a larger body's 401 goes to the agent. The upstream is a
 * real node:http2 server that refuses the first token it sees for each route key.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { createCertificateAuthority, createMemoryCaStore } from "../../src/proxy/ca.ts";
import { runCli, tempHome } from "../helpers/cli.ts";
import { startH2Upstream, type H2Upstream } from "../helpers/h2-upstream.ts";
import { TEST_CLIENTS } from "../helpers/oidc-provider-app.ts";
import { startOidcServer, type TestOidcServer, writeTestPlugin } from "../helpers/oidc-server.ts";
import { currentRuntime, repoRoot } from "../helpers/spawn-runtime.ts";

let server: TestOidcServer;
let home: Awaited<ReturnType<typeof tempHome>>;
let upstream: H2Upstream;
let env: Record<string, string>;
let base: string;

before(async () => {
  server = await startOidcServer();
  home = await tempHome();
  const upstreamCa = await createCertificateAuthority(createMemoryCaStore());
  upstream = await startH2Upstream(upstreamCa);
  const caFile = join(home.home, "upstream-ca.pem");
  await writeFile(caFile, upstreamCa.caCertPem());
  env = { ...home.env, AUTHSOME_UPSTREAM_RESOLVE: `oidc-m2m.api.test:${upstream.port}:127.0.0.1`, AUTHSOME_UPSTREAM_CA: caFile };
  base = `https://oidc-m2m.api.test:${upstream.port}`;
  const plugin = await writeTestPlugin(home.home, server.issuer, "oidc-m2m", { flows: ["client_credentials"], oauth: { clientAuth: "client_secret_post", scopes: ["api:read"] } });
  assert.equal((await runCli(["providers", "add", plugin], { env })).code, 0);
  const login = await runCli(["login", "oidc-m2m", "--client-id", TEST_CLIENTS.machine], { env: { ...env, BROWSER: "/nonexistent" }, input: TEST_CLIENTS.machineSecret });
  assert.equal(login.code, 0, login.stderr);
});
after(async () => {
  await upstream?.close();
  await server?.close();
  await home?.cleanup();
});

// As in run-h2.test.ts: on Deno the proxy offers h2 only with AUTHSOME_HTTP2=1 (src/proxy/h2-server.ts).
const NO_H2 = currentRuntime() === "node" ? false : "the proxy on Deno offers HTTP/1.1 only by default (a Deno 2.9 node:http2 abort; see src/proxy/h2-server.ts)";

test("h2: a 401 gets one refresh and one retry for a bodiless and a small body; a large body's 401 reaches the agent", { skip: NO_H2 }, async () => {
  const grants = (await server.stats()).tokenRequests["client_credentials"] ?? 0;
  const small = "a small replayable body";
  const waves = [[{ path: "/refuse-first?k=get" }], [{ path: "/refuse-first?k=post", body: small }], [{ path: "/refuse-first?k=big", bytes: 100_000 }]];
  const r = await runCli(["run", "--", "node", join(repoRoot, "test/fixtures/run/h2-client.mjs"), base, JSON.stringify(waves)], { env });
  assert.equal(r.code, 0, r.stderr);
  const { alpn, results } = JSON.parse(r.stdout) as { alpn: string; results: { status: number; body: string }[] };
  assert.equal(alpn, "h2");
  assert.deepEqual(results.map((x) => x.status), [200, 200, 401]);
  assert.deepEqual(JSON.parse(results[1]?.body ?? "{}"), { bytes: small.length, sha256: createHash("sha256").update(small).digest("hex") }, "the retry carried the whole body");
  const tokens = (k: string) => upstream.requests.filter((q) => q.path === `/refuse-first?k=${k}`).map((q) => String(q.headers.authorization ?? ""));
  for (const k of ["get", "post"]) {
    const [refused, retried, ...more] = tokens(k);
    assert.deepEqual(more, [], `${k}: one retry, never more`);
    assert.match(refused ?? "", /^Bearer ./);
    assert.ok(retried !== undefined && retried !== refused, `${k}: the retry carried a fresh token`);
  }
  assert.equal(tokens("big").length, 1, "a body past the replay bound is not sent again");
  assert.equal(((await server.stats()).tokenRequests["client_credentials"] ?? 0) - grants, 2, "one new token per refused request that was retried");
  const audit = JSON.parse((await runCli(["audit", "--json"], { env })).stdout) as { entries: { action: string; host?: string; status?: number }[] };
  const injected = audit.entries.filter((e) => e.action === "inject" && e.host === "oidc-m2m.api.test").map((e) => e.status);
  assert.deepEqual(injected, [200, 200, 401], "each stream audited once, with the answer the agent got");
  assert.ok(!r.stdout.includes(tokens("get")[1] ?? "-"), "the child never saw a token");
});
