/**
 * Injection-rule matching: which provider rule applies to an outbound URL, and what it adds.
 *
 * Pure (no I/O, no clock). The proxy and the fetch interceptor both call these functions, so
 * there is exactly one definition of "this credential may go to this request". Everything is
 * decided on normalised values: lower-case host without trailing dots or IPv6 brackets, and a
 * path with dot segments (also percent-encoded ones) resolved the way WHATWG URL does.
 *
 * Nothing here runs a plugin's pattern on JavaScript's backtracking RegExp: `regex:` rules are
 * RE2 programs (src/core/rule-regex.ts), linear in the host's length; path rules are literal
 * prefixes. Rules wider than one provider (`*.com`, `regex:.*`) are refused when parsed
 * (src/core/rule-breadth.ts), which is when a plugin is validated.
 */
import { encodeBase64 } from "@oslojs/encoding";
import { AuthsomeError } from "./errors.ts";
import { normalizeHost } from "./host.ts";
import { credentialToken } from "./token.ts";
import { isCredentialField } from "./plugin.ts";
import { regexBreadthProblem, wildcardProblem } from "./rule-breadth.ts";
import { compileHostRegex, type HostRegex } from "./rule-regex.ts";
import type { CredentialField, InjectionRule, ProviderPlugin } from "./plugin.ts";

/** A host rule parsed once (see {@link parseHostRule}). */
export interface ParsedHostRule {
  kind: "exact" | "wildcard" | "regex";
  /** Normalised host (`exact`), or the parent domain without `*.` (`wildcard`). */
  host: string;
  /** Compiled pattern for `regex` rules: RE2, full match, case-insensitive (host names are). */
  regex?: HostRegex;
  /** Only this port; any port when absent. */
  port?: number;
  /** True for `http://` rules: plain HTTP is allowed as well as HTTPS. */
  allowHttp: boolean;
}

/** Credential values by field, as rendering needs them. */
export type CredentialValues = Partial<Record<CredentialField, string>>;

/** What a matched rule adds to a request; values replace whatever the agent sent. */
export interface RenderedInjection {
  /** Lower-case header names. */
  headers: Record<string, string>;
  query: Record<string, string>;
  /** For an `in: "path"` rule: the segment `prefix + placeholder` becomes `prefix + value`. */
  path?: PathInjection;
}

/** A path segment to rewrite (egress.ts): `<prefix><the run's placeholder>` becomes `<prefix><value>`. */
export interface PathInjection {
  prefix: string;
  value: string;
}

const HOST_PORT = /^(\[[0-9a-fA-F:.]+\]|[^:/?#@[\]\\\s]+)(?::(\d{1,5}))?$/;
const LABELS = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*$/;
const UNRESERVED_ESCAPE = /%(2[dDeE]|3[0-9]|[46][1-9a-fA-F]|[57][0-9aA]|5[fF]|7[eE])/g;
const PLACEHOLDER = /\{([a-z_]+)(?:\.([01]))?\}/g;

/** The core host normal form (src/core/host.ts), under the name this module has always exported. */
export function normaliseHost(host: string): string {
  return normalizeHost(host);
}

/**
 * Normalises a request path as WHATWG URL does (dot segments, `%2e` included, and `\` as `/`),
 * then decodes percent-encoded unreserved characters, so `/v1/../admin`, `/v1/%2e%2e/admin`
 * and `/%61dmin` all give `/admin`. A query or fragment in the input is dropped.
 */
export function normalisePath(path: string): string {
  const withSlash = path.startsWith("/") || path.startsWith("\\") ? path : `/${path}`;
  // Concatenated (not resolved against a base) so `//x` stays a path, not a host.
  const pathname = new URL(`https://authsome.invalid${withSlash}`).pathname;
  return pathname.replace(UNRESERVED_ESCAPE, (_, hex: string) =>
    String.fromCharCode(Number.parseInt(hex, 16)),
  );
}

/**
 * Parses and validates a rule's `host`. Throws a plain Error whose message says what is wrong
 * (the plugin schema turns it into a field error): bad syntax, a regex RE2 cannot run, or a rule
 * that covers every host or a public suffix. A `regex:` rule needs the engine loaded first
 * (`prepareRegexEngine` in src/core/rule-regex.ts).
 */
export function parseHostRule(raw: string): ParsedHostRule {
  if (raw.startsWith("regex:")) return _parseRegexRule(raw.slice("regex:".length));
  const allowHttp = raw.startsWith("http://");
  const rest = raw.replace(/^https?:\/\//, "");
  const match = HOST_PORT.exec(rest);
  if (!match) throw new Error("expected host, host:port, *.domain, http://host or regex:pattern");
  const [, hostPart = "", portPart] = match;
  const wildcard = hostPart.startsWith("*.");
  const host = _validHost(wildcard ? hostPart.slice(2) : hostPart);
  const tooWide = wildcard ? wildcardProblem(host) : null;
  if (tooWide !== null) throw new Error(tooWide);
  const parsed: ParsedHostRule = { kind: wildcard ? "wildcard" : "exact", host, allowHttp };
  if (portPart !== undefined) {
    const port = Number(portPart);
    if (port < 1 || port > 65535) throw new Error(`port ${portPart} out of range`);
    parsed.port = port;
  }
  return parsed;
}

/** A regex must match the whole host: `regex:example\.com` does not match `example.com.evil.net`. */
function _parseRegexRule(pattern: string): ParsedHostRule {
  const regex = compileHostRegex(pattern);
  const tooWide = regexBreadthProblem(regex.test, pattern);
  if (tooWide !== null) throw new Error(tooWide);
  return { kind: "regex", host: "", regex, allowHttp: false };
}

function _validHost(host: string): string {
  if (host.includes("*")) throw new Error("'*' is only allowed as a leading '*.'");
  let hostname: string;
  try {
    hostname = normaliseHost(new URL(`https://${host}/`).hostname);
  } catch {
    throw new Error(`invalid host "${host}"`);
  }
  if (!LABELS.test(hostname) && !hostname.includes(":")) throw new Error(`invalid host "${host}"`);
  return hostname;
}

// Rules are few and fixed; parsing each host string once keeps the per-request cost low.
const parsedCache = new Map<string, ParsedHostRule>();

function _parsed(rule: InjectionRule): ParsedHostRule {
  let parsed = parsedCache.get(rule.host);
  if (!parsed) {
    parsed = parseHostRule(rule.host);
    if (parsedCache.size > 1000) parsedCache.clear();
    parsedCache.set(rule.host, parsed);
  }
  return parsed;
}

function _hostMatches(parsed: ParsedHostRule, host: string, port: number): boolean {
  if (parsed.port !== undefined && parsed.port !== port) return false;
  if (parsed.kind === "exact") return host === parsed.host;
  if (parsed.kind === "wildcard") return host.endsWith(`.${parsed.host}`);
  return parsed.regex?.test(host) ?? false;
}

/** True when `prefix` (normalised) covers `path` on a segment boundary. */
function _pathUnder(path: string, prefix: string): boolean {
  const p = prefix.length > 1 ? prefix.replace(/\/+$/, "") : prefix;
  if (p === "/" || path === p) return true;
  return path.startsWith(`${p}/`);
}

/**
 * True when `rule` applies to `url`: https (or http for `http://` rules), port, host, and the
 * path prefix on a segment boundary (`/v1` matches `/v1` and `/v1/x`, not `/v10`).
 */
export function ruleMatches(rule: InjectionRule, url: URL): boolean {
  const parsed = _parsed(rule);
  if (url.protocol !== "https:" && !(url.protocol === "http:" && parsed.allowHttp)) return false;
  const port = url.port === "" ? (url.protocol === "https:" ? 443 : 80) : Number(url.port);
  if (!_hostMatches(parsed, normaliseHost(url.hostname), port)) return false;
  if (rule.pathPrefix === undefined) return true;
  return _pathUnder(normalisePath(url.pathname), _normalisedPrefix(rule.pathPrefix));
}

const prefixCache = new Map<string, string>();

/** A rule's path prefix, normalised once. */
function _normalisedPrefix(prefix: string): string {
  let normalised = prefixCache.get(prefix);
  if (normalised === undefined) {
    normalised = normalisePath(prefix);
    if (prefixCache.size > 1000) prefixCache.clear();
    prefixCache.set(prefix, normalised);
  }
  return normalised;
}

/**
 * The plugin's rule for `url`, or null. When several match, the longest path prefix wins,
 * then declaration order. The provider's own OAuth endpoints never get a credential injected
 * (a login or refresh made through the proxy carries its own client authentication).
 */
export function findMatchingRule(
  plugin: ProviderPlugin,
  url: URL,
  options: { baseUrl?: string } = {},
): InjectionRule | null {
  let best: InjectionRule | null = null;
  for (const rule of plugin.inject) {
    if (!ruleMatches(rule, url)) continue;
    if (best === null || (rule.pathPrefix ?? "").length > (best.pathPrefix ?? "").length) best = rule;
  }
  if (best !== null && _isOAuthEndpoint(plugin, url, options.baseUrl ?? plugin.baseUrl)) return null;
  return best;
}

function _isOAuthEndpoint(plugin: ProviderPlugin, url: URL, baseUrl: string | undefined): boolean {
  if (!plugin.oauth) return false;
  return _oauthEndpoints(plugin, baseUrl).has(`${normaliseHost(url.hostname)}${normalisePath(url.pathname)}`);
}

// A plugin's endpoints are fixed (per base URL): parsed once, not on every proxied request.
const endpointCache = new WeakMap<ProviderPlugin, Map<string, Set<string>>>();

/** The plugin's OAuth endpoints as normalised `host/path` strings. */
function _oauthEndpoints(plugin: ProviderPlugin, baseUrl: string | undefined): Set<string> {
  let byBase = endpointCache.get(plugin);
  if (byBase === undefined) endpointCache.set(plugin, (byBase = new Map()));
  const cacheKey = baseUrl === undefined ? "" : `=${baseUrl}`;
  let endpoints = byBase.get(cacheKey);
  if (endpoints !== undefined) return endpoints;
  endpoints = new Set();
  const o = plugin.oauth;
  for (const raw of o ? [o.authorizationUrl, o.tokenUrl, o.revocationUrl, o.deviceAuthorizationUrl, o.registrationUrl] : []) {
    if (raw === undefined || (raw.includes("{base_url}") && baseUrl === undefined)) continue;
    try {
      const u = new URL(raw.replaceAll("{base_url}", (baseUrl ?? "").replace(/\/+$/, "")));
      endpoints.add(`${normaliseHost(u.hostname)}${normalisePath(u.pathname)}`);
    } catch {
      // Not a URL: it cannot equal a request's.
    }
  }
  if (byBase.size >= 16) byBase.clear();
  byBase.set(cacheKey, endpoints);
  return endpoints;
}

/**
 * True when some rule of the plugin covers this host and port, ignoring paths: the proxy's
 * CONNECT decision (intercept with a leaf certificate, or tunnel untouched). Scheme is https.
 */
export function hostMatchesAnyRule(plugin: ProviderPlugin, host: string, port: number): boolean {
  const h = normaliseHost(host);
  return plugin.inject.some((rule) => _hostMatches(_parsed(rule), h, port));
}

/**
 * The headers and query parameters a rule adds. `{token}` is the record's token (token.ts);
 * `{field}` is any credential field, `{token.0}`/`{token.1}` the halves of a `first:second` pair.
 * Defaults: header `authorization: Bearer {token}`; query `{token}`; basic `authorization: Basic
 * base64({username}:{password})`; path: the token, to replace the run's placeholder (egress.ts).
 * Throws `credential_missing` when a needed field is absent (names the field, never a value).
 */
export function renderInjection(rule: InjectionRule, fields: CredentialValues): RenderedInjection {
  const where = rule.in ?? "header";
  const headers: Record<string, string> = {};
  const query: Record<string, string> = {};
  if (where === "path") {
    // The token goes into a URL path: a "/" or "?" in it would change which resource is asked for.
    const value = _fill("{token}", fields);
    if (/[/?#%\\\s]/.test(value)) throw new AuthsomeError("record_invalid", "the credential contains a character that cannot go in a URL path");
    return { headers, query, path: { prefix: rule.name ?? "", value } };
  }
  if (where === "query") {
    query[rule.name ?? "api_key"] = _fill(rule.format ?? "{token}", fields);
  } else if (where === "basic") {
    const pair = _fill(rule.format ?? "{username}:{password}", fields);
    headers[(rule.name ?? "authorization").toLowerCase()] = `Basic ${encodeBase64(new TextEncoder().encode(pair))}`;
  } else {
    headers[(rule.name ?? "authorization").toLowerCase()] = _fill(rule.format ?? "Bearer {token}", fields);
  }
  return { headers, query };
}

function _fill(format: string, fields: CredentialValues): string {
  return format.replace(PLACEHOLDER, (_, name: string, part: string | undefined) => {
    const whole = name === "token" ? credentialToken(fields) : _field(fields, name);
    const value = part === undefined ? whole : _pairPart(whole, Number(part));
    if (value === undefined || value === "") {
      const label = part === undefined ? name : `${name}.${part}`;
      throw new AuthsomeError("credential_missing", `credential field "${label}" is missing`);
    }
    // A CR, LF or NUL in a stored value would split or corrupt the outgoing header.
    if (/[\r\n\0]/.test(value)) {
      throw new AuthsomeError("record_invalid", `credential field "${name}" contains a control character`);
    }
    return value;
  });
}

/** Part 0 or 1 of a `first:second` pair (split on the first `:`); undefined without one. */
function _pairPart(value: string | undefined, part: number): string | undefined {
  const colon = value?.indexOf(":") ?? -1;
  if (value === undefined || colon < 0) return undefined;
  return part === 0 ? value.slice(0, colon) : value.slice(colon + 1);
}

function _field(fields: CredentialValues, name: string): string | undefined {
  return isCredentialField(name) ? fields[name] : undefined;
}
