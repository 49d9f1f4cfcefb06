/**
 * The `authsome run`/`serve` tests' setup: a temporary home and an HTTPS upstream from a test CA,
 * reached as `<name>.example.test` for each of `names` (AUTHSOME_UPSTREAM_RESOLVE) and trusted
 * through the CA written into the home (AUTHSOME_UPSTREAM_CA).
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createCertificateAuthority, createMemoryCaStore } from "../../src/proxy/ca.ts";
import { tempHome } from "./cli.ts";
import { startHttpsUpstream, type TestUpstream } from "./proxy-upstream.ts";

export interface HomeWithUpstream {
  home: Awaited<ReturnType<typeof tempHome>>;
  upstream: TestUpstream;
  /** The home's environment with the resolve and CA variables. */
  env: Record<string, string>;
  /** `https://api.example.test:PORT`. */
  base: string;
}

export async function startHomeWithUpstream(names: string[]): Promise<HomeWithUpstream> {
  const home = await tempHome();
  const upstreamCa = await createCertificateAuthority(createMemoryCaStore());
  const upstream = await startHttpsUpstream(() => upstreamCa);
  const caFile = join(home.home, "upstream-ca.pem");
  await writeFile(caFile, upstreamCa.caCertPem());
  const resolve = names.map((h) => `${h}.example.test:${upstream.port}:127.0.0.1`).join(",");
  const env = { ...home.env, AUTHSOME_UPSTREAM_RESOLVE: resolve, AUTHSOME_UPSTREAM_CA: caFile };
  return { home, upstream, env, base: `https://api.example.test:${upstream.port}` };
}
