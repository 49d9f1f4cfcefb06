/**
 * The live half of the conformance suite: a real login and a real injected request, in a
 * throw-away home, against the local stand-in (stand-in.ts). The plugin's OAuth endpoints are
 * pointed at the stand-in; its declared API hosts are kept, and a request to each goes through
 * the real egress pipeline (core/egress.ts, the injector the proxy and interceptor use) before
 * it is sent to the stand-in, which checks the credential arrived where the rule says.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createAuthService, type AuthService } from "../core/auth-service.ts";
import { decideEgress } from "../core/egress.ts";
import { createInjector } from "../core/inject.ts";
import { createPlaceholder } from "../core/placeholder.ts";
import type { FlowName, InjectionRule, ProviderPlugin } from "../core/plugin.ts";
import { findMatchingRule, parseHostRule } from "../core/rules.ts";
import { createTripwire, type Tripwire } from "../core/tripwire.ts";
import type { LoginInteraction } from "../core/flow-registry.ts";
import { result, type CheckResult } from "./checks.ts";
import { startStandIn, type StandIn } from "./stand-in.ts";

const LOGIN_TIMEOUT_MS = 15_000;

/** Runs `login` then `injection` for a validated plugin; always cleans up its home and server. */
export async function liveChecks(plugin: ProviderPlugin): Promise<CheckResult[]> {
  const standIn = await startStandIn();
  const home = await mkdtemp(join(tmpdir(), "authsome-conformance-"));
  let service: AuthService | undefined;
  try {
    const local = _pointedAt(plugin, standIn.origin);
    await mkdir(join(home, "plugins"), { recursive: true, mode: 0o700 });
    await writeFile(join(home, "plugins", `${plugin.name}.json`), JSON.stringify(local), { mode: 0o600 });
    service = await createAuthService({ home, storage: "memory", masterKey: Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64"), actor: "conformance" });
    const login = await _login(service, local, standIn);
    if (!login.check.ok) return [login.check, result("injection", false, "not checked: the login failed", true)];
    return [login.check, await _injection(service, local, standIn, login.secret)];
  } finally {
    await service?.close().catch(() => {});
    await standIn.close();
    await rm(home, { recursive: true, force: true });
  }
}

/**
 * The plugin with every OAuth endpoint on the stand-in (an issuer dropped: nothing to discover)
 * and the default loopback redirect, whose port the login picks.
 */
function _pointedAt(plugin: ProviderPlugin, origin: string): ProviderPlugin {
  if (plugin.oauth === undefined) return plugin;
  const { issuer: _issuer, redirectUri: _redirect, ...oauth } = plugin.oauth;
  const at = (path: string) => `${origin}/__authsome/${path}`;
  return {
    ...plugin,
    oauth: { ...oauth, authorizationUrl: at("authorize"), tokenUrl: at("token"), deviceAuthorizationUrl: at("device"), revocationUrl: at("revoke"), registrationUrl: at("register") },
  };
}

async function _login(service: AuthService, plugin: ProviderPlugin, standIn: StandIn): Promise<{ check: CheckResult; secret: string }> {
  const flow: FlowName = plugin.flows?.[0] ?? (plugin.authType === "oauth2" ? "pkce" : "api_key");
  try {
    if (plugin.authType === "aws_sigv4") {
      // The key id is shaped by apiKey.pattern (AKIA...); the flow reads both keys piped as JSON.
      const keys = { access_key_id: createPlaceholder(plugin), secret_access_key: `conformanceSecret${"0".repeat(23)}` };
      await service.login(plugin.name, { flow, force: true, interaction: { ..._interaction(flow), readPipedSecret: async () => JSON.stringify(keys) }, timeoutMs: LOGIN_TIMEOUT_MS });
      return { check: result("login", true, "aws_sigv4: an access key id shaped by apiKey.pattern and a secret key accepted and stored"), secret: keys.secret_access_key };
    }
    if (flow === "api_key") {
      // The run placeholder is shaped by apiKey.pattern: a key of that shape must be accepted.
      const key = createPlaceholder(plugin);
      await service.login(plugin.name, { apiKey: key, force: true });
      return { check: result("login", true, `api_key: a key shaped by apiKey.pattern accepted and stored`), secret: key };
    }
    await service.login(plugin.name, {
      flow,
      force: true,
      clientId: "conformance-client",
      interaction: _interaction(flow),
      timeoutMs: LOGIN_TIMEOUT_MS,
      redirectPort: await freePort(),
    });
    return { check: result("login", true, `${flow}: logged in against the stand-in authorization server`), secret: standIn.accessToken };
  } catch (error) {
    return { check: result("login", false, `${flow}: ${error instanceof Error ? error.message : String(error)}`), secret: "" };
  }
}

/** A user who approves at once: the "browser" follows the authorization URL to the callback. */
function _interaction(flow: FlowName): LoginInteraction {
  return {
    notify: () => {},
    instruct: () => {},
    browserAtHand: () => true,
    // A public client, except client_credentials, which needs a secret.
    readPipedSecret: async () => (flow === "client_credentials" ? "conformance-secret" : ""),
    openUrl: async (url) => {
      if (flow === "device_code") return;
      const approved = await fetch(url, { redirect: "manual" });
      const callback = approved.headers.get("location");
      await approved.body?.cancel();
      if (callback !== null) await (await fetch(callback)).text();
    },
  };
}

async function _injection(service: AuthService, plugin: ProviderPlugin, standIn: StandIn, secret: string): Promise<CheckResult> {
  const injector = createInjector(service.core);
  // A path rule replaces the run's placeholder in the URL (core/egress.ts): a run's stand-in.
  const tripwire = createTripwire(service.core, { placeholders: async () => ({ [plugin.name]: createPlaceholder(plugin) }) });
  try {
    const undeclared = await decideEgress(injector, { method: "GET", url: new URL("https://authsome-conformance.invalid/"), rawHeaders: [], form: "fetch" });
    if (undeclared.injection !== null) return result("injection", false, "a credential was put on a request to a host the plugin does not declare");
    let tried = 0;
    for (const [i, rule] of plugin.inject.entries()) {
      const url = _sampleUrl(plugin, rule);
      if (url === null || findMatchingRule(plugin, url) !== rule) continue;
      tried += 1;
      const problem = await _oneRequest(injector, rule.in === "path" ? await _withPlaceholder(url, rule, plugin, tripwire) : url, rule, standIn, secret, tripwire);
      if (problem !== null) return result("injection", false, `field "inject[${i}]": ${url.host}: ${problem}`);
    }
    if (tried === 0) return result("injection", true, "no rule with a host to try (regex rules without a sample host)", true);
    const how = plugin.authType === "aws_sigv4" ? "signed (SigV4), the secret key never sent" : plugin.sign === undefined ? "the credential went where each rule says" : "signed by the plugin's hook, the key never sent";
    return result("injection", true, `${tried} declared host(s): ${how}, and nothing to an undeclared host`);
  } finally {
    injector.close?.();
    tripwire.close();
  }
}

/** The sample URL with the segment a path rule rewrites (`/bot<placeholder>/...`). */
async function _withPlaceholder(url: URL, rule: InjectionRule, plugin: ProviderPlugin, tripwire: Tripwire): Promise<URL> {
  const placeholder = (await tripwire.placeholder(plugin.name)) ?? "";
  const out = new URL(url);
  out.pathname = url.pathname.replace(/\/authsome-conformance$/, `/${rule.name ?? ""}${placeholder}/authsome-conformance`);
  return out;
}

async function _oneRequest(injector: ReturnType<typeof createInjector>, url: URL, rule: InjectionRule, standIn: StandIn, secret: string, tripwire: Tripwire): Promise<string | null> {
  const decided = await decideEgress(injector, { method: "GET", url, rawHeaders: ["accept", "application/json"], form: "fetch", tripwire });
  if (decided.injection === null) return "nothing was injected";
  const headers = new Headers();
  for (let j = 0; j + 1 < decided.headers.length; j += 2) headers.append(decided.headers[j] ?? "", decided.headers[j + 1] ?? "");
  // A signed provider (a plugin's sign hook): the signature the transports would add, computed
  // by the same signer (its sandbox), then checked as received; the key itself must not leave.
  const signed = decided.injection.sign === undefined ? null : await decided.injection.sign.sign({ method: "GET", url: decided.url, headers: decided.headers, body: null });
  let path = decided.path;
  if (signed !== null) {
    for (const [name, value] of Object.entries(signed.headers)) headers.set(name, value);
    const target = new URL(path, "http://x.invalid");
    for (const [name, value] of Object.entries(signed.query)) target.searchParams.set(name, value);
    path = target.pathname + target.search;
  }
  const before = standIn.requests.length;
  await (await fetch(`${standIn.origin}${path}`, { headers })).text();
  const seen = standIn.requests[before];
  if (seen === undefined) return "the stand-in received nothing";
  return signed === null ? _credentialProblem(seen, rule, secret) : _signatureProblem(seen, signed, secret);
}

/** Every header the signer set arrived as set, and the secret appears nowhere in the request. */
function _signatureProblem(seen: { path: string; headers: Record<string, string> }, signed: { headers: Record<string, string> }, secret: string): string | null {
  const names = Object.keys(signed.headers);
  if (names.length === 0 && seen.path === "/") return "the sign hook set nothing";
  const lost = names.find((name) => seen.headers[name.toLowerCase()] !== signed.headers[name]);
  if (lost !== undefined) return `the signed header "${lost}" did not arrive as the hook set it`;
  const leaked = seen.path.includes(secret) || Object.values(seen.headers).some((value) => value.includes(secret));
  return leaked ? "the key itself was sent on a signed request" : null;
}

/** Where the rule says the secret goes, checked on what the stand-in received. */
function _credentialProblem(seen: { path: string; headers: Record<string, string> }, rule: InjectionRule, secret: string): string | null {
  const where = rule.in ?? "header";
  const name = (rule.name ?? "Authorization").toLowerCase();
  if (where === "path") return seen.path.includes(`/${rule.name ?? ""}${secret}/`) ? null : `the path segment "${rule.name ?? ""}<placeholder>" did not become "${rule.name ?? ""}<credential>"`;
  if (where === "query") {
    const value = new URL(seen.path, "http://x.invalid").searchParams.get(rule.name ?? "") ?? "";
    return value.includes(secret) ? null : `query parameter "${rule.name ?? ""}" does not carry the credential`;
  }
  const value = seen.headers[name] ?? "";
  if (where === "basic") {
    const decoded = /^Basic (.+)$/i.test(value) ? Buffer.from(value.slice(6), "base64").toString("utf8") : "";
    return decoded.includes(secret) ? null : `header "${name}" carries no Basic credential with the secret`;
  }
  // A pair entered as one value may be sent as its two parts (`{token.0}`, `{token.1}`).
  const parts = secret.includes(":") ? [secret.slice(0, secret.indexOf(":")), secret.slice(secret.indexOf(":") + 1)] : [secret];
  return value.includes(secret) || parts.every((part) => value.includes(part)) ? null : `header "${name}" does not carry the credential`;
}

/** A URL the rule covers: its host (a subdomain for `*.`; for a regex, a candidate it matches). */
function _sampleUrl(plugin: ProviderPlugin, rule: InjectionRule): URL | null {
  const parsed = parseHostRule(rule.host);
  const path = `${rule.pathPrefix ?? ""}/authsome-conformance`.replace(/^\/\//, "/");
  const port = parsed.port === undefined ? "" : `:${parsed.port}`;
  if (parsed.kind === "exact") return new URL(`https://${parsed.host.includes(":") ? `[${parsed.host}]` : parsed.host}${port}${path}`);
  if (parsed.kind === "wildcard") return new URL(`https://conformance.${parsed.host}${port}${path}`);
  const host = _regexCandidates(plugin, rule.host).find((h) => parsed.regex?.test(h) === true);
  return host === undefined ? null : new URL(`https://${host}${path}`);
}

/** Hosts a regex rule may mean: the plugin's other hosts and the literal words of the pattern. */
function _regexCandidates(plugin: ProviderPlugin, pattern: string): string[] {
  const out: string[] = [];
  for (const rule of plugin.inject) if (!rule.host.startsWith("regex:")) out.push(rule.host.replace(/^https?:\/\/|^\*\.|:\d+$/g, ""));
  for (const url of [plugin.docsUrl, plugin.baseUrl, ...Object.values(plugin.oauth ?? {})]) {
    if (typeof url === "string" && /^https?:\/\//.test(url)) out.push(new URL(url.replaceAll("{base_url}", "https://x.invalid")).hostname);
  }
  const words = (pattern.slice("regex:".length).replaceAll("\\.", "\u0000").match(/[a-z0-9\u0000-]+/gi) ?? [])
    .map((word) => word.replaceAll("\u0000", ".").replace(/^[.-]+|[.-]+$/g, "")).filter((w) => w !== "");
  // `(eu|us)\.acme\.example`: the labels before a domain are tried in front of it.
  const labels = words.filter((w) => !w.includes("."));
  for (const host of words.filter((w) => w.includes("."))) out.push(host, ...["api", "conformance", "www", ...labels].map((l) => `${l}.${host}`));
  return out;
}

/** A free loopback port for the OAuth callback (released before the flow binds it). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0));
    });
  });
}
