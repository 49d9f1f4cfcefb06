/**
 * Authorization code + PKCE (RFC 6749 4.1, RFC 7636 S256, RFC 8252 loopback redirect):
 * open the authorization URL, wait on the loopback callback, exchange the code.
 */
import { CodeChallengeMethod, generateCodeVerifier, generateState, OAuth2Client } from "arctic";
import { AuthsomeError } from "../core/errors.ts";
import type { ProviderPlugin } from "../core/plugin.ts";
import { rememberClient, resolveAppClient } from "./app-client.ts";
import { startCallbackServer } from "./callback-server.ts";
import { type OAuthEndpoints, requireEndpoint, resolveEndpoints } from "./discovery.ts";
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
  const endpoints = await resolveEndpoints(context.plugin, context.baseUrl);
  const client = await resolveAppClient(context, { requireSecret: false });
  const result = await authorizeInBrowser(context, endpoints, client);
  await rememberClient(context, client);
  return result;
}
