/**
 * The loopback redirect URI of the authorization-code flows (RFC 8252 7.3): what the user
 * registers with the provider's OAuth app, and where the callback server listens.
 */
import { AuthsomeError } from "../core/errors.ts";
import type { ProviderPlugin } from "../core/plugin.ts";
import { getEnv } from "../runtime/index.ts";

/** The redirect URI registered with the provider's OAuth app. */
export const DEFAULT_REDIRECT_URI = "http://127.0.0.1:7999/callback";

/** The redirect URI for a plugin; `login --redirect-port` or `AUTHSOME_REDIRECT_PORT` changes only its port. */
export function resolveRedirectUri(plugin: ProviderPlugin, portOverride?: number): string {
  const registered = plugin.oauth?.redirectUri ?? DEFAULT_REDIRECT_URI;
  const port = portOverride === undefined ? getEnv("AUTHSOME_REDIRECT_PORT") : String(portOverride);
  // Kept byte for byte otherwise: providers compare redirect URIs as strings.
  if (port === undefined) return registered;
  if (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535) throw new AuthsomeError("usage", "AUTHSOME_REDIRECT_PORT must be a port number (1-65535)");
  const url = new URL(registered);
  url.port = port;
  return url.toString();
}
