/**
 * The protocol half of a token refresh (core/refresh.ts holds the other half: single-flight in a
 * process, the cross-process lock, the re-read under it, the atomic write): a refresh-token
 * grant (RFC 6749 6), or, for client-credentials connections, which have no refresh token, a new
 * token acquired with the saved client. Registered into core as `renew` (src/flows/register.ts).
 */
import type { ClientSecrets } from "../core/records.ts";
import type { ProviderPlugin } from "../core/plugin.ts";
import { needsLoginError } from "../core/refresh.ts";
import type { TokenOperations, TokenSet } from "../core/flow-registry.ts";
import type { Connection } from "../core/vault.ts";
import { clientForConnection } from "./app-client.ts";
import { acquireClientToken } from "./client-credentials.ts";
import { requireEndpoint, resolveEndpoints } from "./discovery.ts";
import { pluginResources } from "./pkce.ts";
import { revokeAtProvider } from "./revocation.ts";
import { refreshTokens } from "./token-client.ts";

export { loginCommand, refreshConnection } from "../core/refresh.ts";

/** New tokens for a stored connection: a refresh-token grant, or client credentials again. */
export async function renewTokens(plugin: ProviderPlugin, current: Connection, saved: ClientSecrets | null): Promise<TokenSet> {
  const { meta, secrets } = current;
  const client = clientForConnection(plugin, meta.clientId, saved);
  const name = plugin.displayName ?? plugin.name;
  if (meta.flow === "client_credentials") {
    if (client.clientSecret === undefined) throw needsLoginError(meta, "the client secret is no longer saved");
    return acquireClientToken(plugin, meta.baseUrl, client, meta.scopes ?? plugin.oauth?.scopes ?? []);
  }
  if (secrets.refresh_token === undefined) throw needsLoginError(meta, `its token expired and ${name} gave no refresh token`);
  const endpoints = await resolveEndpoints(plugin, meta.baseUrl);
  const tokenUrl = requireEndpoint(endpoints, "tokenUrl", plugin, "refresh");
  // RFC 8707 2.2: the refresh asks for the same resource(s), so the new token has the same audience.
  const grant = { endpoints: { ...endpoints, tokenUrl }, client, resources: pluginResources(plugin, meta.baseUrl), what: `${name} refused the token refresh` };
  return refreshTokens(grant, secrets.refresh_token);
}

/** What core calls on stored connections. */
export const tokenOperations: TokenOperations = { renew: renewTokens, revoke: revokeAtProvider };
