/**
 * Token-endpoint grants and revocation on oauth4webapi: code exchange (RFC 6749 4.1.3 with the
 * PKCE verifier, RFC 7636 4.5), refresh (RFC 6749 6), client credentials (4.4), device code
 * polling (RFC 8628 3.4) and revocation (RFC 7009). Every grant carries the plugin's `resource`
 * indicators (RFC 8707 2.2) and authenticates the client the same way (src/flows/oauth-client.ts).
 */
import * as oauth from "oauth4webapi";
import type { OAuthEndpoints } from "./discovery.ts";
import { acceptTokenType, authorizationServer, type CallOptions, clientOf, issuerKnown, mapError, requestOptions, toTokenSet, withResources } from "./oauth-client.ts";
import type { ClientAuth, TokenSet } from "./oauth-http.ts";

type Options = ReturnType<typeof requestOptions>;
type Processor = (as: oauth.AuthorizationServer, client: oauth.Client, response: Response, options: oauth.ProcessTokenResponseOptions) => Promise<oauth.TokenEndpointResponse>;

/** What every grant shares: the server, the client, where the request goes and what to call it. */
export interface GrantContext {
  endpoints: OAuthEndpoints;
  client: ClientAuth;
  /** RFC 8707 resource indicators sent with the grant. */
  resources: readonly string[];
  /** How errors name the request, e.g. "GitHub refused the token refresh". */
  what: string;
}

/** Runs one token request and checks its answer with oauth4webapi. */
async function _grant(grant: GrantContext, secrets: (string | undefined)[], request: (as: oauth.AuthorizationServer, client: oauth.Client, auth: oauth.ClientAuth, options: Options) => Promise<Response>, process: Processor): Promise<TokenSet> {
  const as = authorizationServer(grant.endpoints);
  const { client, auth } = clientOf(grant.client);
  let seen: Record<string, unknown> = {};
  let idToken: string | undefined;
  const call: CallOptions = {
    what: grant.what,
    secrets: [...secrets, grant.client.clientSecret],
    patch: (body) => {
      seen = body;
      // Without a known issuer an ID token's claims cannot be checked (OIDC Core 3.1.3.7): it is
      // kept as the provider sent it, as an opaque value authsome never relies on.
      if (!issuerKnown(as) && typeof body["id_token"] === "string") {
        idToken = body["id_token"];
        delete body["id_token"];
      }
    },
  };
  const url = grant.endpoints.tokenUrl ?? "";
  try {
    const response = await request(as, client, auth, requestOptions(call, url));
    return toTokenSet(await process(as, client, response, { recognizedTokenTypes: acceptTokenType(seen) }), idToken);
  } catch (error) {
    throw mapError(error, call, url);
  }
}

/** Exchanges the authorization response's code (with its PKCE verifier) for tokens. */
export function exchangeCode(grant: GrantContext, callback: URLSearchParams, redirectUri: string, verifier: string | null): Promise<TokenSet> {
  return _grant(grant, [callback.get("code") ?? undefined, verifier ?? undefined], (as, client, auth, options) =>
    oauth.authorizationCodeGrantRequest(as, client, auth, callback, redirectUri, verifier ?? oauth.nopkce, { ...options, additionalParameters: withResources(grant.resources) }),
  (as, client, response, options) => oauth.processAuthorizationCodeResponse(as, client, response, options));
}

/** Uses a refresh token; the response may carry a rotated refresh token. */
export function refreshTokens(grant: GrantContext, refreshToken: string): Promise<TokenSet> {
  return _grant(grant, [refreshToken], (as, client, auth, options) =>
    oauth.refreshTokenGrantRequest(as, client, auth, refreshToken, { ...options, additionalParameters: withResources(grant.resources) }), oauth.processRefreshTokenResponse);
}

/** Requests a token with the client's own credentials (`scope` already joined with the plugin's separator). */
export function clientCredentialsToken(grant: GrantContext, scope: string | undefined): Promise<TokenSet> {
  const params = withResources(grant.resources, scope === undefined ? {} : { scope });
  return _grant(grant, [], (as, client, auth, options) => oauth.clientCredentialsGrantRequest(as, client, auth, params, options), oauth.processClientCredentialsResponse);
}

/** One device-code poll; `authorization_pending` and `slow_down` arrive as OAuthErrors. */
export function pollDeviceCode(grant: GrantContext, deviceCode: string): Promise<TokenSet> {
  return _grant(grant, [deviceCode], (as, client, auth, options) =>
    oauth.deviceCodeGrantRequest(as, client, auth, deviceCode, { ...options, additionalParameters: withResources(grant.resources) }), oauth.processDeviceCodeResponse);
}

/** Revokes a token (RFC 7009). Resolves when the provider accepted it (200, even for unknown tokens). */
export async function revokeToken(grant: GrantContext, token: string, hint: "access_token" | "refresh_token"): Promise<void> {
  const as = authorizationServer(grant.endpoints);
  const { client, auth } = clientOf(grant.client);
  const call: CallOptions = { what: grant.what, secrets: [token, grant.client.clientSecret] };
  const url = grant.endpoints.revocationUrl ?? "";
  try {
    const response = await oauth.revocationRequest(as, client, auth, token, { ...requestOptions(call, url), additionalParameters: { token_type_hint: hint } });
    await oauth.processRevocationResponse(response);
  } catch (error) {
    throw mapError(error, call, url);
  }
}
