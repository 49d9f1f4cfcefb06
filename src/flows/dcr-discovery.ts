/**
 * Where to register a client for `dcr_pkce` when the plugin names no registration endpoint and
 * no issuer: the authorization-server metadata at the authorization URL's origin (RFC 8414
 * `/.well-known/oauth-authorization-server`, then OpenID Connect Discovery), as the Python
 * authsome does for Linear (`linear.json`: authorization and token URLs, `flow: "dcr_pkce"`,
 * no `registration_endpoint`). The plugin's own authorization and token URLs are kept; only the
 * registration endpoint comes from the metadata.
 */
import { AuthsomeError } from "../core/errors.ts";
import type { ProviderPlugin } from "../core/plugin.ts";
import { discoverMetadata, type OAuthEndpoints } from "./discovery.ts";

/**
 * The registration endpoint for a `dcr_pkce` login: the plugin's (or its issuer's), else the one
 * the authorization URL's origin publishes. Throws usage naming the plugin field to set.
 */
export async function registrationEndpoint(plugin: ProviderPlugin, endpoints: OAuthEndpoints): Promise<string> {
  if (endpoints.registrationUrl !== undefined) return endpoints.registrationUrl;
  const hint = "set oauth.registrationUrl (registration.registration_endpoint in v1 files) in the provider plugin";
  if (endpoints.authorizationUrl === undefined) {
    throw new AuthsomeError("usage", `${plugin.name} has no registration endpoint, which the dcr_pkce flow needs`, { hint });
  }
  const origin = new URL(endpoints.authorizationUrl).origin;
  const metadata = await discoverMetadata(origin).catch((error: unknown) => {
    const reason = error instanceof Error ? error.message : String(error);
    throw new AuthsomeError("provider_error", `${plugin.name}: no registration endpoint found at ${origin} (${reason})`, { cause: error, hint });
  });
  if (metadata.registration_endpoint === undefined) {
    throw new AuthsomeError("provider_error", `${plugin.name}: the metadata at ${origin} names no registration_endpoint`, { hint });
  }
  return metadata.registration_endpoint;
}
