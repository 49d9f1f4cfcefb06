/**
 * Client credentials grant (RFC 6749 4.4) for machine-to-machine providers: no browser, no
 * refresh token; when the token expires, src/flows/refresh.ts acquires a new one the same way.
 */
import type { ProviderPlugin } from "../core/plugin.ts";
import { rememberClient, resolveAppClient } from "./app-client.ts";
import { requireEndpoint, resolveEndpoints } from "./discovery.ts";
import { type ClientAuth, requestToken, type TokenSet } from "./oauth-http.ts";
import { requestedScopes, toFlowResult } from "./pkce.ts";
import type { FlowContext, FlowResult } from "./types.ts";

/** Requests a token with the client's own credentials. */
export async function acquireClientToken(plugin: ProviderPlugin, baseUrl: string | undefined, client: ClientAuth, scopes: string[]): Promise<TokenSet> {
  const tokenUrl = requireEndpoint(await resolveEndpoints(plugin, baseUrl), "tokenUrl", plugin, "client_credentials");
  const fields: Record<string, string> = { grant_type: "client_credentials" };
  if (scopes.length > 0) fields["scope"] = scopes.join(plugin.oauth?.scopeSeparator ?? " ");
  return requestToken(tokenUrl, fields, client, `${plugin.displayName ?? plugin.name} refused the client credentials`);
}

/** Runs the client credentials flow. */
export async function runClientCredentialsFlow(context: FlowContext): Promise<FlowResult> {
  const client = await resolveAppClient(context, { requireSecret: true });
  const scopes = requestedScopes(context);
  context.interaction.notify(`Requesting a token for client ${client.clientId}…`);
  const tokens = await acquireClientToken(context.plugin, context.baseUrl, client, scopes);
  await rememberClient(context, client);
  return toFlowResult(tokens, client.clientId, scopes);
}
