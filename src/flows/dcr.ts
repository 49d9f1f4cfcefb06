/**
 * Dynamic client registration (RFC 7591) + PKCE, on oauth4webapi: on the first login, register a
 * public native client for our loopback redirect URI at the provider's registration endpoint
 * (found through metadata discovery when only an issuer is known, as with MCP servers), keep it
 * encrypted in the vault, and reuse it on later logins with the same authorization server
 * (issuer, else registration endpoint) and redirect URI.
 *
 * Only the metadata a native public client needs is sent (RFC 7591 2, RFC 8252 8.4): redirect
 * URIs, grant and response types, `token_endpoint_auth_method: none`, plus the optional
 * `client_name` and `application_type`. No `scope`: servers that limit registration scopes
 * (oidc-provider with resource-server scopes) refuse it, and scopes are asked for at
 * authorization anyway. A server that still refuses the metadata (`invalid_client_metadata`)
 * gets one retry without the optional members; any other refusal (`invalid_redirect_uri`) ends
 * the login with the server's words.
 */
import * as oauth from "oauth4webapi";
import type { ClientSecrets } from "../core/records.ts";
import { clientAuthMethod } from "./app-client.ts";
import { registrationEndpoint } from "./dcr-discovery.ts";
import { type OAuthEndpoints, resolveEndpoints } from "./discovery.ts";
import { authorizationServer, mapError, requestOptions } from "./oauth-client.ts";
import { OAuthError } from "./oauth-http.ts";
import { authorizeInBrowser, resolveRedirectUri } from "./pkce.ts";
import type { FlowContext, FlowResult } from "./types.ts";

/** The members a registration must carry. */
type RequiredMetadata = { redirect_uris: string[]; grant_types: string[]; response_types: string[]; token_endpoint_auth_method: string };

/** The client metadata authsome registers: the required members, then the optional ones. */
export function registrationRequest(redirectUri: string): { required: RequiredMetadata; optional: Record<string, string> } {
  return {
    required: {
      redirect_uris: [redirectUri],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
    },
    optional: { client_name: "authsome", application_type: "native" },
  };
}

/** Where a registration is valid: the authorization server (issuer, else its registration endpoint) and the redirect URI. */
export function registrationKey(endpoints: OAuthEndpoints, registrationUrl: string, redirectUri: string): string {
  return `${endpoints.issuer ?? registrationUrl} ${redirectUri}`;
}

async function _post(as: oauth.AuthorizationServer, metadata: Partial<oauth.OmitSymbolProperties<oauth.Client>>, what: string, url: string): Promise<oauth.OmitSymbolProperties<oauth.Client>> {
  const call = { what, secrets: [], errorCode: "auth_failed" as const };
  try {
    const response = await oauth.dynamicClientRegistrationRequest(as, metadata, requestOptions(call, url));
    return await oauth.processDynamicClientRegistrationResponse(response);
  } catch (error) {
    throw mapError(error, call, url);
  }
}

/** Registers, retrying once without the optional members when the server refuses the metadata. */
async function _registerAt(context: FlowContext, endpoints: OAuthEndpoints, registrationUrl: string, redirectUri: string): Promise<oauth.OmitSymbolProperties<oauth.Client>> {
  const name = context.plugin.displayName ?? context.plugin.name;
  const as = { ...authorizationServer(endpoints), registration_endpoint: registrationUrl };
  const { required, optional } = registrationRequest(redirectUri);
  const what = `${name} refused the client registration`;
  try {
    return await _post(as, { ...required, ...optional }, what, registrationUrl);
  } catch (error) {
    if (!(error instanceof OAuthError) || error.oauthCode !== "invalid_client_metadata") throw error;
    context.interaction.notify(`${name} refused part of the registration (${error.description ?? error.oauthCode}); retrying with the required metadata only…`);
    return _post(as, required, what, registrationUrl);
  }
}

async function _register(context: FlowContext, endpoints: OAuthEndpoints, registrationUrl: string, redirectUri: string, key: string): Promise<ClientSecrets> {
  const name = context.plugin.displayName ?? context.plugin.name;
  context.interaction.notify(`Registering authsome as a client of ${name}…`);
  const registered = await _registerAt(context, endpoints, registrationUrl, redirectUri);
  const client: ClientSecrets = { client_id: registered.client_id, registered_for: key };
  const text = (member: string) => (typeof registered[member] === "string" && registered[member] !== "" ? registered[member] : undefined);
  const secret = text("client_secret");
  const accessToken = text("registration_access_token");
  const clientUri = text("registration_client_uri");
  if (secret !== undefined) client.client_secret = secret;
  if (accessToken !== undefined) client.registration_access_token = accessToken;
  if (clientUri !== undefined) client.registration_client_uri = clientUri;
  // Saved before the browser step, so an abandoned login does not register a second client.
  await context.saveClient?.(client);
  return client;
}

/** Runs dynamic registration (first time) and the authorization-code + PKCE flow. */
export async function runDcrFlow(context: FlowContext): Promise<FlowResult> {
  const endpoints = await resolveEndpoints(context.plugin, context.baseUrl, { authorize: true });
  const registrationUrl = await registrationEndpoint(context.plugin, endpoints);
  const redirectUri = resolveRedirectUri(context.plugin, context.redirectPort);
  const key = registrationKey(endpoints, registrationUrl, redirectUri);
  const saved = context.savedClient;
  // Registrations saved before the issuer keyed them were keyed by their registration endpoint.
  const reusable = saved !== undefined && (saved.registered_for === key || saved.registered_for === `${registrationUrl} ${redirectUri}`);
  const client = reusable ? saved : await _register(context, endpoints, registrationUrl, redirectUri, key);
  if (reusable) context.interaction.notify(`Using the client registered earlier (${client.client_id}).`);
  return authorizeInBrowser(context, endpoints, {
    clientId: client.client_id,
    method: clientAuthMethod(context.plugin),
    ...(client.client_secret === undefined ? {} : { clientSecret: client.client_secret }),
  });
}
