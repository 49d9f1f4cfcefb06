/**
 * Authorization code + PKCE (RFC 6749 4.1, RFC 7636 S256, RFC 8252 loopback redirect):
 * open the authorization URL, wait on the loopback callback, exchange the code.
 */
import { CodeChallengeMethod, generateCodeVerifier, generateState, OAuth2Client } from "arctic";
import { AuthsomeError } from "../core/errors.ts";
import type { ProviderPlugin } from "../core/plugin.ts";
import { getEnv } from "../runtime/index.ts";
import { rememberClient, resolveAppClient } from "./app-client.ts";
import { startCallbackServer } from "./callback-server.ts";
import { type OAuthEndpoints, requireEndpoint, resolveEndpoints } from "./discovery.ts";
import type { ClientAuth, TokenSet } from "./oauth-http.ts";
import { exchangeCode } from "./token-client.ts";
import type { FlowContext, FlowResult } from "./types.ts";

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

/** Builds the authorization URL with arctic (S256 challenge unless the plugin turns PKCE off). */
export function authorizationUrl(plugin: ProviderPlugin, endpoint: string, client: ClientAuth, redirectUri: string, state: string, verifier: string | null, scopes: string[]): URL {
  const arctic = new OAuth2Client(client.clientId, null, redirectUri);
  const url = verifier === null
    ? arctic.createAuthorizationURL(endpoint, state, scopes)
    : arctic.createAuthorizationURLWithPKCE(endpoint, state, CodeChallengeMethod.S256, verifier, scopes);
  const separator = plugin.oauth?.scopeSeparator;
  if (separator !== undefined && scopes.length > 0) url.searchParams.set("scope", scopes.join(separator));
  for (const [name, value] of Object.entries(plugin.oauth?.authorizationParams ?? {})) url.searchParams.set(name, value);
  return url;
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

/** Runs the browser part with a given client: authorize, wait for the callback, exchange the code. */
export async function authorizeInBrowser(context: FlowContext, endpoints: OAuthEndpoints, client: ClientAuth): Promise<FlowResult> {
  const { plugin, interaction } = context;
  const name = plugin.displayName ?? plugin.name;
  const tokenUrl = requireEndpoint(endpoints, "tokenUrl", plugin, "pkce");
  const redirectUri = resolveRedirectUri(plugin, context.redirectPort);
  const scopes = requestedScopes(context);
  const state = generateState();
  const verifier = plugin.oauth?.pkce === false ? null : generateCodeVerifier();
  const url = authorizationUrl(plugin, requireEndpoint(endpoints, "authorizationUrl", plugin, "pkce"), client, redirectUri, state, verifier, scopes);
  const server = await startCallbackServer({
    redirectUri,
    state,
    providerName: name,
    complete: async (code) => toFlowResult(await exchangeCode(tokenUrl, client, redirectUri, code, verifier, `${name} refused the code exchange`), client.clientId, scopes),
  });
  const deadline = _deadline(context.timeoutMs, interaction.signal);
  try {
    interaction.notify(`Opening the browser to log in to ${name}…`);
    await interaction.openUrl(url.toString());
    interaction.notify(`Waiting for the callback on ${redirectUri} (Ctrl-C to cancel)`);
    return await Promise.race([server.result, deadline.promise]);
  } finally {
    deadline.clear();
    await server.close();
  }
}

/** Runs the authorization-code + PKCE flow. */
export async function runPkceFlow(context: FlowContext): Promise<FlowResult> {
  const endpoints = await resolveEndpoints(context.plugin, context.baseUrl);
  const client = await resolveAppClient(context, { requireSecret: false });
  const result = await authorizeInBrowser(context, endpoints, client);
  await rememberClient(context, client);
  return result;
}
