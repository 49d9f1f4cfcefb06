/**
 * The in-process interceptor's test setup (test/intercept/): a temporary home, two HTTPS
 * upstreams from one test CA (`api`, the provider's host, and `attacker`, a host it does not
 * declare), that CA written to a file, and an auth service with one api_key provider installed
 * and logged in.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createAuthService, type AuthService } from "../../src/core/auth-service.ts";
import { intercept } from "../../src/intercept/index.ts";
import { createCertificateAuthority, createMemoryCaStore } from "../../src/proxy/ca.ts";
import { tempHome } from "./cli.ts";
import { startHttpsUpstream, type TestUpstream } from "./proxy-upstream.ts";

export interface InterceptFixture {
  home: Awaited<ReturnType<typeof tempHome>>;
  api: TestUpstream;
  attacker: TestUpstream;
  service: AuthService;
  caFile: string;
  /** intercept() with the test CA trusted (through its `upstream` option). */
  withIntercept(fn: () => Promise<void>): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts the fixture; the provider `name` (plugin file `<name>.json`) gets `inject(host)`, `host`
 * being the `api` upstream's `localhost:PORT`, and is logged in with `key`.
 */
export async function startInterceptFixture(name: string, key: string, inject: (host: string) => Record<string, unknown>[]): Promise<InterceptFixture> {
  const home = await tempHome();
  const ca = await createCertificateAuthority(createMemoryCaStore());
  const api = await startHttpsUpstream(() => ca);
  const attacker = await startHttpsUpstream(() => ca);
  const caFile = join(home.home, "upstream-ca.pem");
  await writeFile(caFile, ca.caCertPem());
  const plugin = join(home.home, `${name}.json`);
  await writeFile(plugin, JSON.stringify({ name, authType: "api_key", inject: inject(`localhost:${api.port}`) }));
  const service = await createAuthService({ home: home.home });
  await service.installProvider(plugin);
  await service.login(name, { apiKey: key });
  return {
    home, api, attacker, service, caFile,
    async withIntercept(fn) {
      // The CA through intercept()'s option: the environment is shared with the files Deno runs in parallel.
      const restore = await intercept({ service, upstream: { extraCaPem: ca.caCertPem() } });
      try {
        await fn();
      } finally {
        await restore();
      }
    },
    async close() {
      await Promise.all([api.close(), attacker.close()]);
      await service.close();
      await home.cleanup();
    },
  };
}
