/**
 * Authorization code + PKCE (RFC 6749 4.1, RFC 7636 S256, RFC 8252 loopback redirect) on
 * oauth4webapi: open the authorization URL (with the plugin's RFC 8707 `resource`), wait on the
 * loopback callback, check the response's `state` and `iss` (RFC 9207), exchange the code.
 */
import * as oauth from "oauth4webapi";
import { AuthsomeError } from "../core/errors.ts";
import type { ProviderPlugin } from "../core/plugin.ts";
import { rememberClient, resolveAppClient } from "./app-client.ts";
import { startCallbackServer } from "./callback-server.ts";
import { fillTemplate, type OAuthEndpoints, requireEndpoint, resolveEndpoints } from "./discovery.ts";
import { authorizationServer, clientOf, issuerKnown, resourcesOf } from "./oauth-client.ts";
import type { ClientAuth, TokenSet } from "./oauth-http.ts";
import { exchangeCode } from "./token-client.ts";
import { resolveRedirectUri } from "./redirect.ts";
import type { FlowContext, FlowResult } from "./types.ts";

export { DEFAULT_REDIRECT_URI, resolveRedirectUri } from "./redirect.ts";

/** The scopes to request: `--scopes`, else the plugin's defaults. */
export function requestedScopes(context: FlowContext): string[] {
  return context.scopes ?? context.plugin.oauth?.scopes ?? [];
}

/** Turns a token set into what the service stores. */
export function toFlowResult(tokens: TokenSet, clientId: string, requested: string[]): FlowResult {
  const scopes = tokens.scopes ?? (requested.length > 0 ? requested : undefined);
  return {
    secrets: {
      access_token: tokens.accessToken,
      ...(tokens.refreshToken === undefined ? {} : { refresh_token: tokens.refreshToken }),
      ...(tokens.idToken === undefined ? {} : { id_token: tokens.idToken }),
    },
    clientId,
    ...(scopes === undefined ? {} : { scopes }),
    ...(tokens.expiresAt === undefined ? {} : { expiresAt: tokens.expiresAt }),
    ...(tokens.tokenType === undefined ? {} : { tokenType: tokens.tokenType }),
  };
}

/** The plugin's resource indicators for a connection's base URL. */
export function pluginResources(plugin: ProviderPlugin, baseUrl: string | undefined): string[] {
  return resourcesOf(plugin, (url) => fillTemplate(url, baseUrl ?? plugin.baseUrl, plugin.name));
}

/** What an authorization request carries besides the endpoint and client. */
export interface AuthorizationRequest {
  redirectUri: string;
  state: string;
  /** The PKCE verifier; null when the plugin turns PKCE off. */
  verifier: string | null;
  scopes: string[];
  /** RFC 8707 resource indicators. */
  resources?: readonly string[];
}

/** Builds the authorization URL (S256 challenge from oauth4webapi unless the plugin turns PKCE off). */
export async function authorizationUrl(plugin: ProviderPlugin, endpoint: string, client: ClientAuth, request: AuthorizationRequest): Promise<URL> {
  const url = new URL(endpoint);
  const params = url.searchParams;
  params.set("response_type", "code");
  params.set("client_id", client.clientId);
  params.set("redirect_uri", request.redirectUri);
  params.set("state", request.state);
  if (request.scopes.length > 0) params.set("scope", request.scopes.join(plugin.oauth?.scopeSeparator ?? " "));
  if (request.verifier !== null) {
    params.set("code_challenge", await oauth.calculatePKCECodeChallenge(request.verifier));
    params.set("code_challenge_method", "S256");
  }
  for (const resource of request.resources ?? []) params.append("resource", resource);
  for (const [name, value] of Object.entries(plugin.oauth?.authorizationParams ?? {})) params.set(name, value);
  return url;
}

/**
 * Checks the authorization response with oauth4webapi: `state`, and `iss` against the issuer
 * (required when the server advertises it, refused when it names another server: RFC 9207 2.4).
 * Without a known issuer there is nothing to compare `iss` with, so it is not looked at.
 */
export function checkAuthorizationResponse(endpoints: OAuthEndpoints, client: ClientAuth, params: URLSearchParams, state: string, providerName: string): URLSearchParams {
  const as = authorizationServer(endpoints);
  const checked = new URLSearchParams(params);
  if (!issuerKnown(as)) checked.delete("iss");
  // Provider errors are reported by the callback server with the provider's own words.
  checked.delete("error");
  try {
    return oauth.validateAuthResponse(as, clientOf(client).client, checked, state);
  } catch (cause) {
    const why = cause instanceof Error ? cause.message : String(cause);
    throw new AuthsomeError("auth_failed", `the authorization response does not come from ${providerName}'s authorization server (${why}), so the login stopped`, {
      cause,
      hint: "run the login again; if it repeats, the plugin's issuer or endpoints may be wrong",
    });
  }
}

function _deadline(ms: number, signal: AbortSignal | undefined): { promise: Promise<never>; clear(): void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort = (): void => {};
  const promise = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new AuthsomeError("auth_cancelled", `no answer from the browser within ${Math.round(ms / 1000)} s, so the login stopped`, {
      hint: "run the login again (--timeout SECONDS waits longer); without a browser here, use --flow device_code",
    })), ms);
    onAbort = () => reject(new AuthsomeError("auth_cancelled", "login cancelled"));
    signal?.addEventListener("abort", onAbort, { once: true });
  });
  promise.catch(() => {});
  return { promise, clear: () => (clearTimeout(timer), signal?.removeEventListener("abort", onAbort)) };
}

/**
 * Said when no browser will open here: the callback goes to this machine's 127.0.0.1, so over
 * SSH the browser elsewhere needs the port forwarded, or the device flow avoids the callback.
 */
function _noBrowserAdvice(plugin: ProviderPlugin, redirectUri: string): string {
  const port = new URL(redirectUri).port;
  const device = plugin.flows?.includes("device_code") === true ? `\nWithout a browser here, \`authsome login ${plugin.name} --flow device_code\` logs in with a code instead.` : "";
  return `The login finishes when that browser reaches ${redirectUri}: from another machine, forward the port first (ssh -L ${port}:127.0.0.1:${port} ...).${device}`;
}

/** Runs the browser part with a given client: authorize, wait for the callback, exchange the code. */
export async function authorizeInBrowser(context: FlowContext, endpoints: OAuthEndpoints, client: ClientAuth): Promise<FlowResult> {
  const { plugin, interaction } = context;
  const name = plugin.displayName ?? plugin.name;
  const tokenUrl = requireEndpoint(endpoints, "tokenUrl", plugin, "pkce");
  const redirectUri = resolveRedirectUri(plugin, context.redirectPort);
  const scopes = requestedScopes(context);
  const state = oauth.generateRandomState();
  const verifier = plugin.oauth?.pkce === false ? null : oauth.generateRandomCodeVerifier();
  const resources = pluginResources(plugin, context.baseUrl);
  const url = await authorizationUrl(plugin, requireEndpoint(endpoints, "authorizationUrl", plugin, "pkce"), client, { redirectUri, state, verifier, scopes, resources });
  const grant = { endpoints: { ...endpoints, tokenUrl }, client, resources, what: `${name} refused the code exchange` };
  const server = await startCallbackServer({
    redirectUri,
    state,
    providerName: name,
    checkResponse: (params) => checkAuthorizationResponse(endpoints, client, params, state, name),
    complete: async (_code, params) => toFlowResult(await exchangeCode(grant, params, redirectUri, verifier), client.clientId, scopes),
  });
  const deadline = _deadline(context.timeoutMs, interaction.signal);
  try {
    interaction.notify(`Log in to ${name} in a browser.`);
    await interaction.openUrl(url.toString());
    if (interaction.browserAtHand?.() === false) interaction.notify(_noBrowserAdvice(plugin, redirectUri));
    interaction.notify(`Waiting for the callback on ${redirectUri} (Ctrl-C to cancel)`);
    return await Promise.race([server.result, deadline.promise]);
  } finally {
    deadline.clear();
    await server.close();
  }
}

/** Runs the authorization-code + PKCE flow. */
export async function runPkceFlow(context: FlowContext): Promise<FlowResult> {
  const endpoints = await resolveEndpoints(context.plugin, context.baseUrl, { authorize: true });
  const client = await resolveAppClient(context, { requireSecret: false });
  const result = await authorizeInBrowser(context, endpoints, client);
  await rememberClient(context, client);
  return result;
}
