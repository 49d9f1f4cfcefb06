/**
 * Client credentials grant (RFC 6749 4.4) for machine-to-machine providers: no browser, no
 * refresh token; when the token expires, src/flows/refresh.ts acquires a new one the same way.
 */
import type { ProviderPlugin } from "../core/plugin.ts";
import { rememberClient, resolveAppClient } from "./app-client.ts";
import { requireEndpoint, resolveEndpoints } from "./discovery.ts";
import type { ClientAuth, TokenSet } from "./oauth-http.ts";
import { pluginResources, requestedScopes, toFlowResult } from "./pkce.ts";
import { clientCredentialsToken } from "./token-client.ts";
import type { FlowContext, FlowResult } from "./types.ts";

/** Requests a token with the client's own credentials (and the plugin's `resource`, RFC 8707). */
export async function acquireClientToken(plugin: ProviderPlugin, baseUrl: string | undefined, client: ClientAuth, scopes: string[]): Promise<TokenSet> {
  const endpoints = await resolveEndpoints(plugin, baseUrl);
  const tokenUrl = requireEndpoint(endpoints, "tokenUrl", plugin, "client_credentials");
  const grant = { endpoints: { ...endpoints, tokenUrl }, client, resources: pluginResources(plugin, baseUrl), what: `${plugin.displayName ?? plugin.name} refused the client credentials` };
  return clientCredentialsToken(grant, scopes.length > 0 ? scopes.join(plugin.oauth?.scopeSeparator ?? " ") : undefined);
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
