/**
 * Where a provider's OAuth endpoints are: the plugin's URLs with `{base_url}` filled in, and,
 * for what the plugin leaves out, authorization-server metadata found from its issuer
 * (RFC 8414 `/.well-known/oauth-authorization-server`, then OpenID Connect Discovery), which
 * is how MCP servers and other DCR providers are reached.
 */
import * as v from "valibot";
import { AuthsomeError } from "../core/errors.ts";
import type { ProviderPlugin } from "../core/plugin.ts";
import { send } from "./oauth-http.ts";

/** A provider's resolved endpoints. */
export interface OAuthEndpoints {
  issuer?: string;
  authorizationUrl?: string;
  tokenUrl?: string;
  revocationUrl?: string;
  deviceAuthorizationUrl?: string;
  registrationUrl?: string;
}

const HttpUrl = v.pipe(v.string(), v.url(), v.check((u) => /^https?:\/\//i.test(u), "must be an http(s) URL"));

/** RFC 8414 section 2 (only the members authsome uses). */
export const ServerMetadataSchema = v.object({
  issuer: HttpUrl,
  authorization_endpoint: v.optional(HttpUrl),
  token_endpoint: v.optional(HttpUrl),
  revocation_endpoint: v.optional(HttpUrl),
  device_authorization_endpoint: v.optional(HttpUrl),
  registration_endpoint: v.optional(HttpUrl),
  code_challenge_methods_supported: v.optional(v.array(v.string())),
});

/** Parsed authorization-server metadata. */
export type ServerMetadata = v.InferOutput<typeof ServerMetadataSchema>;

/** Replaces `{base_url}` (without a trailing slash) in a plugin URL. */
export function fillTemplate(url: string, baseUrl: string | undefined, provider: string): string {
  if (!url.includes("{base_url}")) return url;
  if (baseUrl === undefined) {
    throw new AuthsomeError("usage", `${provider} needs a base URL`, { hint: `pass --base-url https://your-instance` });
  }
  return url.replaceAll("{base_url}", baseUrl.replace(/\/+$/, ""));
}

/** The metadata URLs to try for an issuer, in order (RFC 8414 3.1; OIDC Discovery 4). */
export function metadataUrls(issuer: string): string[] {
  const url = new URL(issuer);
  const path = url.pathname.replace(/\/+$/, "");
  const urls = [
    `${url.origin}/.well-known/oauth-authorization-server${path}`,
    `${url.origin}/.well-known/openid-configuration${path}`,
    `${url.origin}${path}/.well-known/openid-configuration`,
  ];
  return [...new Set(urls)];
}

const _cache = new Map<string, Promise<ServerMetadata>>();

/** Fetches and checks an issuer's metadata; cached per process. */
export function discoverMetadata(issuer: string): Promise<ServerMetadata> {
  let found = _cache.get(issuer);
  if (found === undefined) {
    found = _discover(issuer);
    _cache.set(issuer, found);
    found.catch(() => _cache.delete(issuer));
  }
  return found;
}

async function _discover(issuer: string): Promise<ServerMetadata> {
  const want = issuer.replace(/\/+$/, "");
  for (const url of metadataUrls(issuer)) {
    const { status, body } = await send(url, { headers: { Accept: "application/json" } }, "metadata discovery");
    if (status === 404 || status === 405) continue;
    const parsed = v.safeParse(ServerMetadataSchema, body);
    if (status !== 200 || !parsed.success) {
      throw new AuthsomeError("provider_error", `metadata discovery: ${url} answered HTTP ${status} without valid metadata`);
    }
    // RFC 8414 3.3: metadata naming another issuer must not be used.
    if (parsed.output.issuer.replace(/\/+$/, "") !== want) {
      throw new AuthsomeError("provider_error", `metadata discovery: ${url} names issuer ${parsed.output.issuer}, expected ${issuer}`);
    }
    return parsed.output;
  }
  throw new AuthsomeError("provider_error", `metadata discovery: ${issuer} publishes no authorization-server metadata`, {
    hint: "set the endpoints in the provider plugin instead (oauth.authorizationUrl, tokenUrl, registrationUrl)",
  });
}

/** The plugin's endpoints with `{base_url}` filled, completed from discovery when it names an issuer. */
export async function resolveEndpoints(plugin: ProviderPlugin, baseUrl: string | undefined): Promise<OAuthEndpoints> {
  const oauth = plugin.oauth ?? {};
  const base = baseUrl ?? plugin.baseUrl;
  const fill = (url: string | undefined) => (url === undefined ? undefined : fillTemplate(url, base, plugin.name));
  const own: OAuthEndpoints = {};
  const set = (key: keyof OAuthEndpoints, value: string | undefined) => {
    if (value !== undefined) own[key] = value;
  };
  set("issuer", fill(oauth.issuer));
  set("authorizationUrl", fill(oauth.authorizationUrl));
  set("tokenUrl", fill(oauth.tokenUrl));
  set("revocationUrl", fill(oauth.revocationUrl));
  set("deviceAuthorizationUrl", fill(oauth.deviceAuthorizationUrl));
  set("registrationUrl", fill(oauth.registrationUrl));
  const complete = own.authorizationUrl && own.tokenUrl && own.registrationUrl && own.revocationUrl;
  if (own.issuer === undefined || complete) return own;
  const meta = await discoverMetadata(own.issuer);
  set("authorizationUrl", own.authorizationUrl ?? meta.authorization_endpoint);
  set("tokenUrl", own.tokenUrl ?? meta.token_endpoint);
  set("revocationUrl", own.revocationUrl ?? meta.revocation_endpoint);
  set("deviceAuthorizationUrl", own.deviceAuthorizationUrl ?? meta.device_authorization_endpoint);
  set("registrationUrl", own.registrationUrl ?? meta.registration_endpoint);
  return own;
}

/** Returns an endpoint or throws naming the missing plugin field. */
export function requireEndpoint(endpoints: OAuthEndpoints, key: Exclude<keyof OAuthEndpoints, "issuer">, plugin: ProviderPlugin, flow: string): string {
  const url = endpoints[key];
  if (url !== undefined) return url;
  throw new AuthsomeError("usage", `${plugin.name} has no ${key.replace(/Url$/, " endpoint")}, which the ${flow} flow needs`, {
    hint: `set oauth.${key} (or oauth.issuer for discovery) in the provider plugin`,
  });
}
