/**
 * `intercept()` from the installed package (`authsome-broker/intercept`), in a consumer script,
 * against real local upstreams: plain HTTP without overrides, and HTTPS with
 * AUTHSOME_UPSTREAM_CA and AUTHSOME_UPSTREAM_RESOLVE set, the case where the bundled undici
 * once threw "Agent is not a constructor". Each upstream records the Authorization it received.
 */
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { createCertificateAuthority, createMemoryCaStore } from "../../src/proxy/ca.ts";
import { runCli, tempHome } from "../helpers/cli.ts";
import { consumerScratch, packageSkip, runConsumerScript } from "../helpers/package.ts";
import { startHttpsUpstream, startHttpUpstream, type TestUpstream } from "../helpers/proxy-upstream.ts";
import { currentRuntime } from "../helpers/spawn-runtime.ts";

const KEY = "pkg-intercept-key";
let home: Awaited<ReturnType<typeof tempHome>>;
let plain: TestUpstream;
let secure: TestUpstream;
let caFile: string;

const script = `
import { intercept } from "authsome-broker/intercept";
const restore = await intercept();
const response = await fetch(process.env.TARGET_URL);
const body = await response.text();
await restore();
console.log(JSON.stringify({ status: response.status, length: body.length }));
`;

before(async () => {
  if (packageSkip) return;
  home = await tempHome();
  const ca = await createCertificateAuthority(createMemoryCaStore());
  plain = await startHttpUpstream();
  secure = await startHttpsUpstream(() => ca);
  caFile = join(home.home, "upstream-ca.pem");
  await writeFile(caFile, ca.caCertPem());
  const plugin = join(home.home, "pkg-api.json");
  const hosts = [`http://127.0.0.1:${plain.port}`, `localhost:${secure.port}`, `api.pkg-test.example:${secure.port}`];
  await writeFile(plugin, JSON.stringify({ name: "pkg-api", authType: "api_key", inject: hosts.map((host) => ({ host, pathPrefix: "/v1" })) }));
  assert.equal((await runCli(["providers", "add", plugin], { env: home.env })).code, 0);
  const login = await runCli(["login", "pkg-api"], { env: home.env, input: KEY });
  assert.equal(login.code, 0, login.stderr);
});
after(async () => {
  if (packageSkip) return;
  await Promise.all([plain.close(), secure.close()]);
  await home.cleanup();
});

async function fetchThroughIntercept(url: string, env: Record<string, string | undefined>): Promise<void> {
  const dir = await consumerScratch("intercept");
  const r = await runConsumerScript(dir, script, { ...home.env, TARGET_URL: url, AUTHSOME_UPSTREAM_CA: undefined, AUTHSOME_UPSTREAM_RESOLVE: undefined, ...env });
  assert.equal(r.code, 0, r.stderr);
  assert.equal((JSON.parse(r.stdout.trim()) as { status: number }).status, 200);
}

test("without upstream overrides: the key reaches a declared plain-HTTP host", { skip: packageSkip }, async () => {
  await fetchThroughIntercept(`http://127.0.0.1:${plain.port}/v1/models`, {});
  assert.equal(plain.requests.at(-1)?.headers.authorization, `Bearer ${KEY}`);
});

test("with AUTHSOME_UPSTREAM_CA: the key reaches an HTTPS upstream signed by that CA", { skip: packageSkip }, async () => {
  await fetchThroughIntercept(`https://localhost:${secure.port}/v1/models`, { AUTHSOME_UPSTREAM_CA: caFile });
  assert.equal(secure.requests.at(-1)?.headers.authorization, `Bearer ${KEY}`);
  assert.equal(secure.requests.at(-1)?.servername, "localhost");
});

// Deno's fetch has no resolver hook (src/runtime/index.ts): AUTHSOME_UPSTREAM_RESOLVE is Node-only.
test("with AUTHSOME_UPSTREAM_RESOLVE and _CA: a name resolved to the local upstream gets the key", { skip: packageSkip || (currentRuntime() === "deno" && "AUTHSOME_UPSTREAM_RESOLVE applies on Node only") }, async () => {
  await fetchThroughIntercept(`https://api.pkg-test.example:${secure.port}/v1/models`, {
    AUTHSOME_UPSTREAM_CA: caFile,
    AUTHSOME_UPSTREAM_RESOLVE: `api.pkg-test.example:${secure.port}:127.0.0.1`,
  });
  const last = secure.requests.at(-1);
  assert.equal(last?.servername, "api.pkg-test.example");
  assert.equal(last?.headers.authorization, `Bearer ${KEY}`);
});
