/**
 * Code exchange, refresh and revocation. arctic's `OAuth2Client` does them for public clients
 * and `client_secret_basic`; arctic has no `client_secret_post`, so those go through our form
 * request. Either way the body is parsed with valibot (src/flows/oauth-http.ts).
 */
import {
  ArcticFetchError,
  OAuth2Client,
  type OAuth2Tokens,
  OAuth2RequestError,
  UnexpectedErrorResponseBodyError,
  UnexpectedResponseError,
} from "arctic";
import * as v from "valibot";
import { AuthsomeError } from "../core/errors.ts";
import { type ClientAuth, ErrorResponseSchema, oauthError, parseTokenBody, postForm, REQUEST_TIMEOUT_MS, requestToken, type TokenSet } from "./oauth-http.ts";

function _arcticFits(client: ClientAuth): boolean {
  return client.clientSecret === undefined || client.method !== "client_secret_post";
}

function _arctic(client: ClientAuth, redirectUri: string | null): OAuth2Client {
  return new OAuth2Client(client.clientId, client.clientSecret ?? null, redirectUri);
}

/** Runs an arctic request with our deadline and maps its errors to ours. */
async function _viaArctic<T>(run: () => Promise<T>, url: string, what: string, secrets: (string | undefined)[]): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new AuthsomeError("endpoint_unreachable", `${what}: no answer from ${new URL(url).host} within ${REQUEST_TIMEOUT_MS / 1000} s`)), REQUEST_TIMEOUT_MS);
  });
  try {
    return await Promise.race([run(), deadline]);
  } catch (error) {
    if (error instanceof OAuth2RequestError) throw oauthError({ error: error.code, error_description: error.description }, what, secrets);
    if (error instanceof ArcticFetchError) {
      throw new AuthsomeError("endpoint_unreachable", `${what}: cannot reach ${new URL(url).host}`, { cause: error, hint: "check the network, or the provider's --base-url" });
    }
    if (error instanceof UnexpectedResponseError || error instanceof UnexpectedErrorResponseBodyError) {
      throw new AuthsomeError("provider_error", `${what}: unexpected HTTP ${error.status} from ${new URL(url).host}`, { cause: error });
    }
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

function _tokens(result: OAuth2Tokens, what: string, secrets: (string | undefined)[]): TokenSet {
  return parseTokenBody(result.data, 200, what, secrets);
}

/** Exchanges an authorization code (with its PKCE verifier, RFC 7636 4.5) for tokens. */
export async function exchangeCode(tokenUrl: string, client: ClientAuth, redirectUri: string, code: string, verifier: string | null, what: string): Promise<TokenSet> {
  const secrets = [code, verifier ?? undefined, client.clientSecret];
  if (!_arcticFits(client)) {
    const fields: Record<string, string> = { grant_type: "authorization_code", code, redirect_uri: redirectUri };
    if (verifier !== null) fields["code_verifier"] = verifier;
    return requestToken(tokenUrl, fields, client, what);
  }
  const result = await _viaArctic(() => _arctic(client, redirectUri).validateAuthorizationCode(tokenUrl, code, verifier), tokenUrl, what, secrets);
  return _tokens(result, what, secrets);
}

/** Uses a refresh token (RFC 6749 6); the response may carry a rotated refresh token. */
export async function refreshTokens(tokenUrl: string, client: ClientAuth, refreshToken: string, what: string): Promise<TokenSet> {
  const secrets = [refreshToken, client.clientSecret];
  if (!_arcticFits(client)) return requestToken(tokenUrl, { grant_type: "refresh_token", refresh_token: refreshToken }, client, what);
  const result = await _viaArctic(() => _arctic(client, null).refreshAccessToken(tokenUrl, refreshToken, []), tokenUrl, what, secrets);
  return _tokens(result, what, secrets);
}

/** Revokes a token (RFC 7009). Resolves when the provider accepted it (200, even for unknown tokens). */
export async function revokeToken(revocationUrl: string, client: ClientAuth, token: string, hint: "access_token" | "refresh_token", what: string): Promise<void> {
  const secrets = [token, client.clientSecret];
  if (_arcticFits(client)) {
    await _viaArctic(() => _arctic(client, null).revokeToken(revocationUrl, token), revocationUrl, what, secrets);
    return;
  }
  const { status, body } = await postForm(revocationUrl, { token, token_type_hint: hint }, client, what);
  if (status === 200) return;
  const failure = v.safeParse(ErrorResponseSchema, body);
  if (failure.success) throw oauthError(failure.output, what, secrets);
  throw new AuthsomeError("provider_error", `${what}: unexpected HTTP ${status} from ${new URL(revocationUrl).host}`);
}
