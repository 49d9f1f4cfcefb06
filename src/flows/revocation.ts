/**
 * Token revocation at the provider (RFC 7009), used by `authsome revoke` before it clears local
 * state. The refresh token goes first (it usually ends the whole grant), then the access token.
 * Failures are reported per token, never thrown: local cleanup happens regardless.
 */
import { toAuthsomeError } from "../core/errors.ts";
import type { ProviderPlugin } from "../core/plugin.ts";
import type { ClientSecrets } from "../core/records.ts";
import type { Connection } from "../core/vault.ts";
import { clientForConnection } from "./app-client.ts";
import { type OAuthEndpoints, resolveEndpoints } from "./discovery.ts";
import { revokeToken } from "./token-client.ts";
import type { TokenRevocation } from "../core/flow-registry.ts";

export type { TokenRevocation };

/** Revokes a connection's tokens where the provider allows it; reports each token. @internal */
export async function revokeAtProvider(plugin: ProviderPlugin, found: Connection, saved: ClientSecrets | null): Promise<TokenRevocation[]> {
  const connection = found.meta.connection;
  const present = (["refresh_token", "access_token"] as const).filter((token) => found.secrets[token] !== undefined);
  if (plugin.authType !== "oauth2" || present.length === 0) return [];
  let endpoints: OAuthEndpoints;
  try {
    endpoints = await resolveEndpoints(plugin, found.meta.baseUrl);
  } catch (error) {
    return present.map((token) => ({ connection, token, outcome: "failed", message: toAuthsomeError(error).message }));
  }
  if (endpoints.revocationUrl === undefined) return present.map((token) => ({ connection, token, outcome: "unsupported" }));
  const name = plugin.displayName ?? plugin.name;
  const reports: TokenRevocation[] = [];
  for (const token of present) {
    try {
      const client = clientForConnection(plugin, found.meta.clientId, saved);
      await revokeToken({ endpoints, client, resources: [], what: `${name} refused to revoke the ${token.replace("_", " ")}` }, found.secrets[token] ?? "", token);
      reports.push({ connection, token, outcome: "revoked" });
    } catch (error) {
      reports.push({ connection, token, outcome: "failed", message: toAuthsomeError(error).message });
    }
  }
  return reports;
}
