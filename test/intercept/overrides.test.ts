/**
 * AUTHSOME_UPSTREAM_RESOLVE in the in-process interceptor, on Node (undici connector) and on
 * Deno (the SOCKS relay): an entry applies to its exact host:port, as curl's --resolve and the
 * proxy do, with the URL's name kept for SNI and the certificate check.
 */
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { createAuthService, type AuthService } from "../../src/core/auth-service.ts";
import { intercept } from "../../src/intercept/index.ts";
import { createCertificateAuthority, createMemoryCaStore } from "../../src/proxy/ca.ts";
import { parseResolveSpec, resolveOverride } from "../../src/runtime/upstream.ts";
import { tempHome } from "../helpers/cli.ts";
import { startHttpsUpstream, type TestUpstream } from "../helpers/proxy-upstream.ts";

let home: Awaited<ReturnType<typeof tempHome>>;
let api: TestUpstream;
let other: TestUpstream;
let service: AuthService;
let overrides: Record<string, string>;

/** Sets the overrides only while intercept() reads them: test files may share one process (Deno). */
async function interceptWithOverrides(): Promise<() => void> {
  const saved = Object.fromEntries(Object.keys(overrides).map((name) => [name, process.env[name]]));
  Object.assign(process.env, overrides);
  try {
    return await intercept({ service });
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

before(async () => {
  home = await tempHome();
  const ca = await createCertificateAuthority(createMemoryCaStore());
  api = await startHttpsUpstream(() => ca);
  other = await startHttpsUpstream(() => ca);
  const caFile = join(home.home, "upstream-ca.pem");
  await writeFile(caFile, ca.caCertPem());
  overrides = { AUTHSOME_UPSTREAM_CA: caFile, AUTHSOME_UPSTREAM_RESOLVE: `svc.example.test:${api.port}:127.0.0.1` };
  const plugin = join(home.home, "svc.json");
  await writeFile(plugin, JSON.stringify({ name: "svc", authType: "api_key", inject: [{ host: "svc.example.test" }] }));
  service = await createAuthService({ home: home.home });
  await service.installProvider(plugin);
  await service.login("svc", { apiKey: "svc-key-0001" });
});
after(async () => {
  await Promise.all([api.close(), other.close()]);
  await service.close();
  await home.cleanup();
});

test("the resolve table matches host and port exactly", () => {
  const table = parseResolveSpec("Svc.Example.TEST.:1:127.0.0.1, [::1]:2:[::1]");
  assert.equal(resolveOverride(table, "svc.example.test", 1), "127.0.0.1");
  assert.equal(resolveOverride(table, "SVC.example.test.", 1), "127.0.0.1");
  assert.equal(resolveOverride(table, "svc.example.test", 2), undefined, "host:1 does not apply to host:2");
  assert.equal(resolveOverride(table, "::1", 2), "::1");
  assert.throws(() => parseResolveSpec("svc.example.test:127.0.0.1"), /host:port:address/);
});

test("the interceptor reaches the overridden host:port (name kept for TLS), and only that port", async () => {
  const restore = await interceptWithOverrides();
  try {
    const res = await fetch(`https://svc.example.test:${api.port}/v1/over`, { signal: AbortSignal.timeout(10_000) });
    assert.equal(res.status, 200);
    await res.text();
    const seen = api.requests.find((r) => r.url === "/v1/over");
    assert.equal(seen?.headers.authorization, "Bearer svc-key-0001");
    assert.equal(seen?.servername, "svc.example.test", "SNI carries the URL's name, not the address");
    // The fully qualified spelling is the same host: the same override and the same credential.
    const dotted = await fetch(`https://SVC.example.test.:${api.port}/v1/dotted`, { signal: AbortSignal.timeout(10_000) });
    assert.equal(dotted.status, 200);
    await dotted.text();
    assert.equal(api.requests.find((r) => r.url === "/v1/dotted")?.headers.authorization, "Bearer svc-key-0001");
    // No entry for the other port: the name must be looked up for real (and .test never resolves).
    await assert.rejects(fetch(`https://svc.example.test:${other.port}/v1/not-overridden`, { signal: AbortSignal.timeout(10_000) }));
    assert.equal(other.requests.length, 0, "the entry for one port was not applied to another");
  } finally {
    await restore();
  }
});
