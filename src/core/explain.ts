/**
 * `explain`: what the egress pipeline would do with a request to a URL, said in words, without
 * sending anything anywhere (no upstream request, no token refresh, no secret decrypted).
 *
 * It walks the same steps as the one injector (src/core/inject.ts): the plugins in registry
 * order that declare the host and port (`hostMatchesAnyRule`), the rule the one matcher picks
 * (`findMatchingRule`, which also keeps credentials off OAuth endpoints), the connection the
 * injector would ask for (named, else the provider's default through `resolveConnectionName`),
 * and the first provider with a usable connection wins. Only metadata is read, so the answer
 * names where the credential would go (header, query, Basic) and never what it is.
 */
import { AuthsomeError } from "./errors.ts";
import { normaliseHost, findMatchingRule, hostMatchesAnyRule, ruleMatches } from "./rules.ts";
import type { InjectionRule, ProviderPlugin } from "./plugin.ts";
import type { ConnectionMeta } from "./records.ts";
import { resolveConnectionName, type ServiceCore } from "./service.ts";
import type { Vault } from "./vault.ts";

/** Options for {@link explain}. */
export interface ExplainOptions {
  /** The connection an agent would name (`--connection`, proxy username, `X-Authsome-Connection`). */
  connection?: string;
  /** Per-run provider -> connection choices (`run --connection p=NAME`). */
  connections?: Record<string, string>;
}

/** Where the credential would be put; templates only, never a value. */
export interface ExplainPlacement {
  /** `signature`: the request is signed per request (SigV4, or the plugin's sign hook), not given a fixed value. */
  in: "header" | "query" | "basic" | "signature" | "path";
  /** Header or query parameter name. */
  name: string;
  /** The value with the credential shown as a placeholder, e.g. `Bearer <access token>`. */
  value: string;
}

/** How one provider that declares the host fared. */
export interface ExplainCandidate {
  provider: string;
  outcome: "applies" | "later" | "no_rule" | "oauth_endpoint" | "plain_http" | "not_connected" | "connection_not_found";
  reason: string;
}

/** The answer of {@link explain}. */
export interface Explanation {
  /** The URL as decided on (no query, no user info: they may hold a secret the user pasted). */
  url: string;
  host: string;
  port: number;
  /** True when a credential would be injected. */
  applies: boolean;
  provider: string | null;
  connection: string | null;
  /** The chosen connection's status and expiry (metadata only). */
  connection_status: string | null;
  expires_at: string | null;
  rule: { host: string; path_prefix: string | null } | null;
  placement: ExplainPlacement | null;
  /** An HTTPS tunnel to this host and port would be opened (intercepted) by `authsome run`. */
  intercepted: boolean;
  /** What `run --deny-unmatched` does with the host. */
  deny_unmatched: "allowed" | "denied";
  /** One sentence: what would happen, or why nothing would be injected. */
  reason: string;
  /** Every provider that declares the host, in the order the injector tries them. */
  candidates: ExplainCandidate[];
}

/** Parses what the user typed: an http(s) URL; a bare `host/path` is taken as https. */
export function parseExplainUrl(text: string): URL {
  const trimmed = text.trim();
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? trimmed : `https://${trimmed}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new AuthsomeError("usage", `"${trimmed.slice(0, 80)}" is not a URL`, { hint: "give a full URL, e.g. https://api.github.com/user" });
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new AuthsomeError("usage", `only http and https URLs are explained, not ${url.protocol}`);
  }
  return url;
}

/** Says which provider, connection and rule a request to `text` would get, or why none. */
export async function explain(core: ServiceCore, text: string, options: ExplainOptions = {}): Promise<Explanation> {
  const url = parseExplainUrl(text);
  const host = normaliseHost(url.hostname);
  const port = Number(url.port || (url.protocol === "https:" ? 443 : 80));
  const [{ plugins }, vault] = await Promise.all([core.registry.list(), core.vault()]);
  const candidates: ExplainCandidate[] = [];
  let chosen: { plugin: ProviderPlugin; rule: InjectionRule; meta: ConnectionMeta } | null = null;
  let failure: string | null = null;
  let connectedDeclarer = false;
  for (const plugin of plugins) {
    if (!hostMatchesAnyRule(plugin, host, port)) continue;
    const connected = (await vault.connectionNames(plugin.name)).length > 0;
    connectedDeclarer ||= connected;
    const rule = findMatchingRule(plugin, url);
    if (rule === null) {
      candidates.push(_noRule(plugin, url));
      continue;
    }
    if (chosen !== null || failure !== null) {
      candidates.push({ provider: plugin.name, outcome: "later", reason: "a provider tried before it decides the request" });
      continue;
    }
    const wanted = options.connection ?? options.connections?.[plugin.name];
    const found = await _connectionFor(vault, plugin, wanted);
    if ("meta" in found) {
      chosen = { plugin, rule, meta: found.meta };
      candidates.push({ provider: plugin.name, outcome: "applies", reason: `rule ${_ruleText(rule)} matches and connection "${found.meta.connection}" is used` });
    } else {
      // The injector refuses the request outright when a named connection is missing from a connected provider.
      if (wanted !== undefined && connected) failure = `the request would fail: ${plugin.name} has no connection "${wanted}"`;
      candidates.push({ provider: plugin.name, outcome: wanted !== undefined && connected ? "connection_not_found" : "not_connected", reason: found.reason });
    }
  }
  return _answer(url, host, port, candidates, chosen, failure, connectedDeclarer);
}

/** Why a provider that declares the host has no rule for this URL. */
function _noRule(plugin: ProviderPlugin, url: URL): ExplainCandidate {
  const provider = plugin.name;
  if (plugin.inject.some((rule) => ruleMatches(rule, url))) {
    return { provider, outcome: "oauth_endpoint", reason: "this is one of the provider's OAuth endpoints, which never get a credential" };
  }
  if (url.protocol === "http:") {
    const https = new URL(url.href);
    https.protocol = "https:";
    if (findMatchingRule(plugin, https) !== null) return { provider, outcome: "plain_http", reason: "its rule is HTTPS-only: nothing is sent over plain http" };
  }
  return { provider, outcome: "no_rule", reason: "it declares the host, but no rule covers this path" };
}

/** The connection the injector would read (metadata only), or why there is none. */
async function _connectionFor(vault: Vault, plugin: ProviderPlugin, wanted: string | undefined): Promise<{ meta: ConnectionMeta } | { reason: string }> {
  let name: string;
  try {
    name = await resolveConnectionName(vault, plugin.name, wanted);
  } catch (error) {
    const hint = error instanceof AuthsomeError && error.hint !== undefined ? ` (${error.hint})` : "";
    return { reason: `${error instanceof Error ? error.message : "no usable connection"}${hint}` };
  }
  const meta = await vault.getMeta(plugin.name, name).catch(() => null);
  if (meta === null) return { reason: `no connection "${name}" for ${plugin.name} (log in: authsome login ${plugin.name}${name === "default" ? "" : ` --connection ${name}`})` };
  return { meta };
}

function _answer(
  url: URL,
  host: string,
  port: number,
  candidates: ExplainCandidate[],
  chosen: { plugin: ProviderPlugin; rule: InjectionRule; meta: ConnectionMeta } | null,
  failure: string | null,
  connectedDeclarer: boolean,
): Explanation {
  const shown = `${url.protocol}//${url.host}${url.pathname}`;
  const base = {
    url: shown, host, port, candidates,
    intercepted: url.protocol === "https:" && connectedDeclarer,
    deny_unmatched: connectedDeclarer ? ("allowed" as const) : ("denied" as const),
  };
  if (chosen === null) {
    const reason = failure ?? _noneReason(host, candidates);
    return { ...base, applies: false, provider: null, connection: null, connection_status: null, expires_at: null, rule: null, placement: null, reason };
  }
  const { plugin, rule, meta } = chosen;
  const placement = _signature(plugin) ?? describePlacement(rule, meta.authType);
  const expiry = meta.expiresAt !== undefined && Date.parse(meta.expiresAt) <= Date.now() ? " (expired: the proxy refreshes it first, or asks for a new login)" : "";
  return {
    ...base,
    applies: true,
    provider: plugin.name,
    connection: meta.connection,
    connection_status: meta.status,
    expires_at: meta.expiresAt ?? null,
    rule: { host: rule.host, path_prefix: rule.pathPrefix ?? null },
    placement,
    reason: `${plugin.displayName ?? plugin.name} connection "${meta.connection}"${expiry} would be ${placement.in === "signature" ? `used to sign the request: ${placement.name}: ${placement.value}` : `injected as ${placement.in === "query" ? `query parameter ${placement.name}=${placement.value}` : placement.in === "path" ? `path segment ${placement.value}` : `header ${placement.name}: ${placement.value}`}`}`,
  };
}

function _noneReason(host: string, candidates: ExplainCandidate[]): string {
  if (candidates.length === 0) return `no provider declares ${host}: the request would pass untouched (a blind tunnel for https)`;
  const first = candidates[0];
  if (candidates.length === 1 && first !== undefined) return `nothing would be injected: ${first.provider}: ${first.reason}`;
  return `nothing would be injected: ${candidates.map((c) => `${c.provider}: ${c.reason}`).join("; ")}`;
}

function _ruleText(rule: InjectionRule): string {
  return rule.pathPrefix === undefined ? rule.host : `${rule.host}${rule.pathPrefix}`;
}

/** Signed providers get a per-request signature instead of a rendered value (src/core/inject.ts `signerFor`). */
function _signature(plugin: ProviderPlugin): ExplainPlacement | null {
  if (plugin.authType === "aws_sigv4") {
    return { in: "signature", name: "Authorization", value: "AWS4-HMAC-SHA256 Credential=<access key id>/<date>/<region>/<service>/aws4_request, SignedHeaders=…, Signature=<signature> (AWS SigV4, with X-Amz-Date and X-Amz-Content-Sha256)" };
  }
  if (plugin.sign !== undefined) return { in: "signature", name: "headers", value: "whatever the plugin's sign hook returns for the request (run in its sandbox)" };
  return null;
}

/** Where a rule puts the credential, with placeholders in place of values (as rules.ts renders it). */
export function describePlacement(rule: InjectionRule, authType: string): ExplainPlacement {
  const token = authType === "oauth2" ? "<access token>" : authType === "basic" ? "<password>" : "<api key>";
  const fill = (format: string) => format.replace(/\{([a-z_]+)(\.[01])?\}/g, (_, field: string, part = "") => `${field === "token" ? token.slice(0, -1) : `<${field.replaceAll("_", " ")}`}${part === "" ? "" : part === ".0" ? " (first part)" : " (second part)"}>`);
  const where = rule.in ?? "header";
  if (where === "query") return { in: "query", name: rule.name ?? "api_key", value: fill(rule.format ?? "{token}") };
  if (where === "path") return { in: "path", name: rule.name ?? "", value: `${rule.name ?? ""}${token} (in place of the run's placeholder, ${rule.name ?? ""}<placeholder>)` };
  if (where === "basic") return { in: "basic", name: rule.name ?? "Authorization", value: `Basic base64(${fill(rule.format ?? "{username}:{password}")})` };
  return { in: "header", name: rule.name ?? "Authorization", value: fill(rule.format ?? "Bearer {token}") };
}
