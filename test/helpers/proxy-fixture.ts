/**
 * One proxy under test, wired to real upstreams through resolve overrides, with a small test
 * Injector standing in for the vault-backed one (the only stand-in these tests use).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AuthsomeError } from "../../src/core/errors.ts";
import type { InjectionDecision, InjectionOptions, Injector } from "../../src/core/injector.ts";
import { createCertificateAuthority, createMemoryCaStore, type CertificateAuthority } from "../../src/proxy/ca.ts";
import { createProxy, type InjectionEvent, type Proxy } from "../../src/proxy/server.ts";
import { freePort } from "./ports.ts";
import { startHttpUpstream, startHttpsUpstream, type TestUpstream } from "./proxy-upstream.ts";

/** A host rule of the test injector: which schemes, and the credential per connection. */
interface TestRule {
  host: string;
  provider: string;
  schemes: readonly string[];
  in: "header" | "query";
  name: string;
  /** connection name -> credential value; `default` is the provider's default connection. */
  values: Record<string, string>;
  /** The rule opted out of response scrubbing. */
  scrub?: false;
}

export const SECRET = "Bearer test-secret";
export const WORK_SECRET = "Bearer work-secret";

const RULES: readonly TestRule[] = [
  { host: "api.example.test", provider: "example", schemes: ["https"], in: "header", name: "authorization", values: { default: SECRET, work: WORK_SECRET } },
  { host: "plain.example.test", provider: "plainco", schemes: ["http", "https"], in: "header", name: "authorization", values: { default: "Bearer plain-secret" } },
  { host: "query.example.test", provider: "queryco", schemes: ["https"], in: "query", name: "api_key", values: { default: "query-secret" } },
  { host: "keys.example.test", provider: "keyco", schemes: ["https"], in: "header", name: "authorization", values: { default: "Bearer keys-secret" }, scrub: false },
  { host: "untrusted.example.test", provider: "example", schemes: ["https"], in: "header", name: "authorization", values: { default: SECRET } },
  { host: "mismatch.example.test", provider: "example", schemes: ["https"], in: "header", name: "authorization", values: { default: SECRET } },
  { host: "unreachable.example.test", provider: "example", schemes: ["https"], in: "header", name: "authorization", values: { default: SECRET } },
  { host: "expired.example.test", provider: "example", schemes: ["https"], in: "header", name: "authorization", values: {} },
];

/** Hosts whose decisions fail the way the real injector's do. */
const FAILING: Record<string, AuthsomeError> = {
  "expired.example.test": new AuthsomeError("needs_login", 'connection "default" of provider "example" needs a new login', {
    hint: "run: authsome login example --force",
  }),
};

/** The test Injector: exact host match (so the proxy must normalise), scheme per rule. */
export interface TestInjector extends Injector {
  decisions: { url: string; connection: string | undefined }[];
}

export function createTestInjector(): TestInjector {
  const decisions: TestInjector["decisions"] = [];
  return {
    decisions,
    shouldIntercept(host) {
      if (host === "broken.example.test") return Promise.reject(new AuthsomeError("storage_failed", "the vault cannot be read"));
      return Promise.resolve(RULES.some((rule) => rule.host === host));
    },
    decide(url: URL, options?: InjectionOptions): Promise<InjectionDecision | null> {
      decisions.push({ url: url.href, connection: options?.connection });
      const failure = FAILING[url.hostname];
      if (failure !== undefined) return Promise.reject(failure);
      const rule = RULES.find((r) => r.host === url.hostname && r.schemes.includes(url.protocol.slice(0, -1)));
      const connection = options?.connection ?? "default";
      const value = rule?.values[connection];
      if (rule === undefined || value === undefined) return Promise.resolve(null);
      const placed = { [rule.name]: value };
      return Promise.resolve({
        provider: rule.provider,
        connection,
        headers: rule.in === "header" ? placed : {},
        query: rule.in === "query" ? placed : {},
        ...(rule.scrub === false ? { scrub: false } : {}),
      });
    },
  };
}

/** Everything a proxy test needs. */
export interface ProxyFixture {
  proxy: Proxy;
  port: number;
  token: string;
  /** `http://_:<token>@127.0.0.1:<port>` */
  proxyUrl: string;
  injector: TestInjector;
  events: InjectionEvent[];
  /** The proxy's CA (what a child trusts). */
  ca: CertificateAuthority;
  /** The CA of the legitimate test upstreams (trusted by the proxy as the extra upstream CA). */
  upstreamCa: CertificateAuthority;
  /** HTTPS: api, other, query, mismatch .example.test */
  api: TestUpstream;
  /** HTTPS: attacker.example.test (trusted cert), untrusted.example.test (unknown CA) */
  attacker: TestUpstream;
  /** Plain HTTP: plain, api, other .example.test */
  plain: TestUpstream;
  /** PEM file with the proxy CA and the upstream CA, as `authsome run` would give a child. */
  bundlePath: string;
  bundlePem: string;
  /** Port on which nothing listens. */
  closedPort: number;
  close(): Promise<void>;
}

/** Options for {@link startProxyFixture}. */
export interface FixtureOptions {
  denyUnmatched?: boolean;
}


export async function startProxyFixture(options: FixtureOptions = {}): Promise<ProxyFixture> {
  const [ca, upstreamCa, rogueCa] = await Promise.all([
    createCertificateAuthority(createMemoryCaStore()),
    createCertificateAuthority(createMemoryCaStore()),
    createCertificateAuthority(createMemoryCaStore()),
  ]);
  const api = await startHttpsUpstream(() => upstreamCa);
  const attacker = await startHttpsUpstream((name) => (name.startsWith("untrusted.") ? rogueCa : upstreamCa));
  const plain = await startHttpUpstream();
  const closedPort = await _closedPort();
  const resolve = new Map<string, string>();
  for (const host of ["api", "other", "query", "mismatch", "expired", "keys"]) resolve.set(`${host}.example.test:${api.port}`, "127.0.0.1");
  for (const host of ["attacker", "untrusted"]) resolve.set(`${host}.example.test:${attacker.port}`, "127.0.0.1");
  for (const host of ["plain", "api", "other"]) resolve.set(`${host}.example.test:${plain.port}`, "127.0.0.1");
  resolve.set(`unreachable.example.test:${closedPort}`, "127.0.0.1");

  const token = Buffer.from(crypto.getRandomValues(new Uint8Array(18))).toString("base64url");
  const injector = createTestInjector();
  const events: InjectionEvent[] = [];
  const proxy = createProxy({
    injector,
    authenticate: (_username, password) => password === token,
    ca,
    denyUnmatched: options.denyUnmatched === true,
    upstream: { resolve, extraCaPem: upstreamCa.caCertPem() },
    onInjection: (event) => events.push(event),
  });
  const { port } = await proxy.listen(0, "127.0.0.1");
  const dir = mkdtempSync(join(tmpdir(), "authsome-proxy-"));
  const bundlePem = ca.caCertPem() + upstreamCa.caCertPem();
  const bundlePath = join(dir, "bundle.pem");
  writeFileSync(bundlePath, bundlePem);
  return {
    proxy, port, token, proxyUrl: `http://_:${token}@127.0.0.1:${port}`, injector, events, ca, upstreamCa,
    api, attacker, plain, bundlePath, bundlePem, closedPort,
    async close() {
      await proxy.close();
      await Promise.all([api.close(), attacker.close(), plain.close()]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A port nothing listens on: free now, and below the kernel's ephemeral range (ports.ts), so no
 * other test's listen(0) can be handed it before a test connects there (one from listen(0),
 * released, could be, and that test then reached a stranger's server instead of ECONNREFUSED).
 */
async function _closedPort(): Promise<number> {
  return await freePort();
}
