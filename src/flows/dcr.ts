/**
 * Dynamic client registration (RFC 7591) + PKCE: on the first login, register a public native
 * client for our loopback redirect URI at the provider's registration endpoint (found through
 * metadata discovery when only an issuer is known, as with MCP servers), keep it encrypted in
 * the vault, and reuse it on later logins as long as the endpoint and redirect URI are the same.
 */
import * as v from "valibot";
import { AuthsomeError } from "../core/errors.ts";
import type { ClientSecrets } from "../core/records.ts";
import { clientAuthMethod } from "./app-client.ts";
import { registrationEndpoint } from "./dcr-discovery.ts";
import { resolveEndpoints } from "./discovery.ts";
import { ErrorResponseSchema, oauthError, send } from "./oauth-http.ts";
import { authorizeInBrowser, requestedScopes, resolveRedirectUri } from "./pkce.ts";
import type { FlowContext, FlowResult } from "./types.ts";

/** RFC 7591 3.2.1 (the members authsome keeps). */
export const RegistrationResponseSchema = v.object({
  client_id: v.pipe(v.string(), v.nonEmpty()),
  client_secret: v.optional(v.nullable(v.string())),
  registration_access_token: v.optional(v.nullable(v.string())),
  registration_client_uri: v.optional(v.nullable(v.string())),
});

/** The client metadata authsome registers (RFC 7591 2; RFC 8252 for native apps). */
export function registrationRequest(redirectUri: string, scopes: string[]): Record<string, unknown> {
  return {
    client_name: "authsome",
    application_type: "native",
    redirect_uris: [redirectUri],
    grant_types: ["authorization_code", "refresh_token"],
    response_types: ["code"],
    token_endpoint_auth_method: "none",
    ...(scopes.length > 0 ? { scope: scopes.join(" ") } : {}),
  };
}

async function _register(context: FlowContext, registrationUrl: string, redirectUri: string, key: string): Promise<ClientSecrets> {
  const name = context.plugin.displayName ?? context.plugin.name;
  context.interaction.notify(`Registering authsome as a client of ${name}…`);
  const { status, body } = await send(registrationUrl, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json", "User-Agent": "authsome" },
    body: JSON.stringify(registrationRequest(redirectUri, requestedScopes(context))),
  }, `${name} client registration`);
  const failure = v.safeParse(ErrorResponseSchema, body);
  if (failure.success) throw oauthError(failure.output, `${name} refused the client registration`, [], "auth_failed");
  const parsed = v.safeParse(RegistrationResponseSchema, body);
  if (status < 200 || status > 299 || !parsed.success) throw new AuthsomeError("provider_error", `${name} client registration: unexpected HTTP ${status} response`);
  const registered = parsed.output;
  const client: ClientSecrets = { client_id: registered.client_id, registered_for: key };
  if (registered.client_secret) client.client_secret = registered.client_secret;
  if (registered.registration_access_token) client.registration_access_token = registered.registration_access_token;
  if (registered.registration_client_uri) client.registration_client_uri = registered.registration_client_uri;
  // Saved before the browser step, so an abandoned login does not register a second client.
  await context.saveClient?.(client);
  return client;
}

/** Runs dynamic registration (first time) and the authorization-code + PKCE flow. */
export async function runDcrFlow(context: FlowContext): Promise<FlowResult> {
  const endpoints = await resolveEndpoints(context.plugin, context.baseUrl);
  const registrationUrl = await registrationEndpoint(context.plugin, endpoints);
  const redirectUri = resolveRedirectUri(context.plugin, context.redirectPort);
  const key = `${registrationUrl} ${redirectUri}`;
  const saved = context.savedClient;
  const client = saved?.registered_for === key ? saved : await _register(context, registrationUrl, redirectUri, key);
  if (client === saved) context.interaction.notify(`Using the client registered earlier (${client.client_id}).`);
  return authorizeInBrowser(context, endpoints, {
    clientId: client.client_id,
    method: clientAuthMethod(context.plugin),
    ...(client.client_secret === undefined ? {} : { clientSecret: client.client_secret }),
  });
}
