/**
 * Where a provider's OAuth endpoints are: the plugin's URLs with `{base_url}` filled in, and,
 * for what the plugin leaves out, authorization-server metadata found from its issuer
 * (RFC 8414 `/.well-known/oauth-authorization-server`, then OpenID Connect Discovery), which
 * is how MCP servers and other DCR providers are reached.
 */
import * as oauth from "oauth4webapi";
import { AuthsomeError } from "../core/errors.ts";
import type { ProviderPlugin } from "../core/plugin.ts";
import { mapError, requestOptions } from "./oauth-client.ts";

/** A provider's resolved endpoints. */
export interface OAuthEndpoints {
  issuer?: string;
  authorizationUrl?: string;
  tokenUrl?: string;
  revocationUrl?: string;
  deviceAuthorizationUrl?: string;
  registrationUrl?: string;
  /** The server advertises `authorization_response_iss_parameter_supported` (RFC 9207): `iss` must then come back. */
  issParameterSupported?: boolean;
}

/** Authorization-server metadata (RFC 8414 2), checked by oauth4webapi. */
export type ServerMetadata = oauth.AuthorizationServer;

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
  const expected = new URL(issuer);
  const call = { what: "metadata discovery", secrets: [] };
  for (const url of metadataUrls(issuer)) {
    const options = requestOptions(call, url);
    const response = await options[oauth.customFetch](url, { headers: { accept: "application/json" }, signal: options.signal() });
    if (response.status === 404 || response.status === 405) continue;
    try {
      // Checks the status, the JSON and that the metadata names this issuer (RFC 8414 3.3).
      return await oauth.processDiscoveryResponse(expected, response);
    } catch (error) {
      const why = error instanceof AuthsomeError || !(error instanceof Error) ? mapError(error, call, url).message : error.message;
      throw new AuthsomeError("provider_error", `metadata discovery: ${url} answered without valid metadata for ${issuer} (${why})`, { cause: error });
    }
  }
  throw new AuthsomeError("provider_error", `metadata discovery: ${issuer} publishes no authorization-server metadata`, {
    hint: "set the endpoints in the provider plugin instead (oauth.authorizationUrl, tokenUrl, registrationUrl)",
  });
}

/**
 * The plugin's endpoints with `{base_url}` filled, completed from discovery when it names an
 * issuer. With `authorize`, a named issuer is always looked up (even when the plugin lists every
 * endpoint), so `authorization_response_iss_parameter_supported` is known before the browser step.
 */
export async function resolveEndpoints(plugin: ProviderPlugin, baseUrl: string | undefined, options: { authorize?: boolean } = {}): Promise<OAuthEndpoints> {
  const oauth = plugin.oauth ?? {};
  const base = baseUrl ?? plugin.baseUrl;
  const fill = (url: string | undefined) => (url === undefined ? undefined : fillTemplate(url, base, plugin.name));
  const own: OAuthEndpoints = {};
  const set = (key: Exclude<keyof OAuthEndpoints, "issParameterSupported">, value: string | undefined) => {
    if (value !== undefined) own[key] = value;
  };
  if (oauth.issuer !== undefined) own.issuer = fill(oauth.issuer);
  set("authorizationUrl", fill(oauth.authorizationUrl));
  set("tokenUrl", fill(oauth.tokenUrl));
  set("revocationUrl", fill(oauth.revocationUrl));
  set("deviceAuthorizationUrl", fill(oauth.deviceAuthorizationUrl));
  set("registrationUrl", fill(oauth.registrationUrl));
  const complete = own.authorizationUrl && own.tokenUrl && own.registrationUrl && own.revocationUrl;
  if (own.issuer === undefined || (complete && options.authorize !== true)) return own;
  // Complete endpoints need no metadata; its iss flag is then learnt when the server answers.
  const meta = await discoverMetadata(own.issuer).catch((error: unknown) => {
    if (complete) return null;
    throw error;
  });
  if (meta === null) return own;
  set("authorizationUrl", own.authorizationUrl ?? meta.authorization_endpoint);
  set("tokenUrl", own.tokenUrl ?? meta.token_endpoint);
  set("revocationUrl", own.revocationUrl ?? meta.revocation_endpoint);
  set("deviceAuthorizationUrl", own.deviceAuthorizationUrl ?? meta.device_authorization_endpoint);
  set("registrationUrl", own.registrationUrl ?? meta.registration_endpoint);
  // The discovered issuer string is the one `iss` is compared with, byte for byte (RFC 9207 2.4).
  own.issuer = meta.issuer;
  if (meta.authorization_response_iss_parameter_supported === true) own.issParameterSupported = true;
  return own;
}

/** Returns an endpoint or throws naming the missing plugin field. */
export function requireEndpoint(endpoints: OAuthEndpoints, key: Exclude<keyof OAuthEndpoints, "issuer" | "issParameterSupported">, plugin: ProviderPlugin, flow: string): string {
  const url = endpoints[key];
  if (url !== undefined) return url;
  throw new AuthsomeError("usage", `${plugin.name} has no ${key.replace(/Url$/, " endpoint")}, which the ${flow} flow needs`, {
    hint: `set oauth.${key} (or oauth.issuer for discovery) in the provider plugin`,
  });
}
