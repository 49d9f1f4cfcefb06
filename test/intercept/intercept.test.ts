/**
 * The in-process interceptor: `intercept()` patches fetch with the same injector as the proxy.
 * A real HTTPS upstream (test CA trusted through the `upstream` option) records what arrives.
 */
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { createAuthService, type AuthService } from "../../src/core/auth-service.ts";
import { intercept } from "../../src/intercept/index.ts";
import { createCertificateAuthority, createMemoryCaStore } from "../../src/proxy/ca.ts";
import { tempHome } from "../helpers/cli.ts";
import { startHttpsUpstream, type TestUpstream } from "../helpers/proxy-upstream.ts";

let home: Awaited<ReturnType<typeof tempHome>>;
let api: TestUpstream;
let attacker: TestUpstream;
let service: AuthService;
let caPem: string;

before(async () => {
  home = await tempHome();
  const ca = await createCertificateAuthority(createMemoryCaStore());
  api = await startHttpsUpstream(() => ca);
  attacker = await startHttpsUpstream(() => ca);
  // Trusted through intercept()'s option, not AUTHSOME_UPSTREAM_CA: the environment is shared
  // with the test files Deno runs in parallel.
  caPem = ca.caCertPem();
  const plugin = join(home.home, "local.json");
  await writeFile(plugin, JSON.stringify({ name: "local", authType: "api_key", inject: [{ host: `localhost:${api.port}`, pathPrefix: "/v1" }, { host: `localhost:${api.port}`, pathPrefix: "/q", in: "query", name: "key", format: "{token}" }, { host: `localhost:${api.port}`, pathPrefix: "/redirect" }] }));
  service = await createAuthService({ home: home.home });
  await service.installProvider(plugin);
  await service.login("local", { apiKey: "local-key-default" });
  await service.login("local", { connection: "work", apiKey: "local-key-work" });
});
after(async () => {
  await Promise.all([api.close(), attacker.close()]);
  await service.close();
  await home.cleanup();
});

test("fetch gets the credential for a declared host and path; restore() undoes the patch", async () => {
  const original = globalThis.fetch;
  const restore = await intercept({ service, upstream: { extraCaPem: caPem } });
  try {
    assert.notEqual(globalThis.fetch, original);
    let res = await fetch(`https://localhost:${api.port}/v1/models`, { headers: { authorization: "Bearer agent-supplied", "x-authsome-connection": "work" } });
    assert.equal(res.status, 200);
    await res.text();
    assert.equal(api.requests.at(-1)?.headers.authorization, "Bearer local-key-work", "the agent's value is replaced; the header picked the connection");
    assert.equal(api.requests.at(-1)?.headers["x-authsome-connection"], undefined);
    res = await fetch(`https://localhost:${api.port}/v1/../v1/chat`, { method: "POST", body: JSON.stringify({ a: 1 }) });
    await res.text();
    assert.equal(api.requests.at(-1)?.headers.authorization, "Bearer local-key-default");
    res = await fetch(`https://localhost:${api.port}/q/search?key=agent`);
    await res.text();
    assert.equal(api.requests.at(-1)?.url, "/q/search?key=local-key-default");
    res = await fetch(`https://localhost:${api.port}/v10/other`);
    await res.text();
    assert.equal(api.requests.at(-1)?.headers.authorization, undefined, "a path outside the prefix gets nothing");
  } finally {
    await restore();
  }
  assert.equal(globalThis.fetch, original);
  // restore()'s promise settles once the queued audit batch is written.
  const injected = (await service.auditEntries()).filter((e) => e.action === "inject");
  assert.ok(injected.some((e) => e.host === "localhost" && e.connection === "work" && e.status === 200), "interceptor injections are audited");
});

test("a redirect to another host carries no credential", async () => {
  const restore = await intercept({ service, upstream: { extraCaPem: caPem } });
  try {
    const target = `https://localhost:${attacker.port}/stolen`;
    const res = await fetch(`https://localhost:${api.port}/redirect?to=${encodeURIComponent(target)}`);
    assert.equal(res.status, 200);
    assert.equal(new URL(res.url).port, String(attacker.port));
    await res.text();
    assert.equal(api.requests.find((r) => r.url.startsWith("/redirect"))?.headers.authorization, "Bearer local-key-default", "the first hop had it");
    const stolen = attacker.requests.find((r) => r.url === "/stolen");
    assert.ok(stolen, "the client followed the redirect");
    assert.equal(stolen.headers.authorization, undefined);
  } finally {
    await restore();
  }
});

test("an undeclared host is left alone; a second intercept() is refused", async () => {
  const restore = await intercept({ service, upstream: { extraCaPem: caPem } });
  try {
    const res = await fetch(`https://localhost:${attacker.port}/plain`, { headers: { "x-authsome-connection": "work", "X-Authsome-Probe": "1" } });
    await res.text();
    assert.equal(attacker.requests.at(-1)?.headers.authorization, undefined);
    // Agent-set X-Authsome-* never leave the process, to an undeclared host either.
    assert.deepEqual(attacker.requests.at(-1)?.rawHeaders.filter((h, i) => i % 2 === 0 && h.toLowerCase().startsWith("x-authsome-")), []);
    await assert.rejects(intercept({ service, upstream: { extraCaPem: caPem } }), /already intercepted/);
  } finally {
    await restore();
  }
});
