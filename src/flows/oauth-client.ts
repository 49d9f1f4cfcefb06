/**
 * The one place the flows meet oauth4webapi: the authorization server and client it is given,
 * client authentication (one encoding for every grant: `client_secret_basic` form-encodes id and
 * secret per RFC 6749 2.3.1, `client_secret_post`, or `none`), the deadline on every request,
 * and the provider's answer turned into ours. oauth4webapi builds and checks the protocol
 * messages; what it is handed here is each provider's response read once, under the deadline,
 * with the known departures from the spec evened out (see `_normalize`).
 */
import * as oauth from "oauth4webapi";
import { AuthsomeError, type ErrorCode } from "../core/errors.ts";
import type { ProviderPlugin } from "../core/plugin.ts";
import type { OAuthEndpoints } from "./discovery.ts";
import { type ClientAuth, ErrorResponseSchema, oauthError, REQUEST_TIMEOUT_MS, type TokenSet } from "./oauth-http.ts";
import * as v from "valibot";

// A stand-in issuer for plugins that name none (most fixed-endpoint providers): nothing is
// compared with it, because `iss` and ID-token claims are only checked against a known issuer.
const UNKNOWN_ISSUER = "urn:authsome:issuer-not-configured";

/** oauth4webapi's view of a provider's authorization server. */
export function authorizationServer(endpoints: OAuthEndpoints): oauth.AuthorizationServer {
  const as: oauth.AuthorizationServer = { issuer: endpoints.issuer ?? UNKNOWN_ISSUER };
  const set = (key: keyof oauth.AuthorizationServer, value: string | undefined) => {
    if (value !== undefined) Object.assign(as, { [key]: value });
  };
  set("authorization_endpoint", endpoints.authorizationUrl);
  set("token_endpoint", endpoints.tokenUrl);
  set("revocation_endpoint", endpoints.revocationUrl);
  set("device_authorization_endpoint", endpoints.deviceAuthorizationUrl);
  set("registration_endpoint", endpoints.registrationUrl);
  return endpoints.issParameterSupported === true ? { ...as, authorization_response_iss_parameter_supported: true } : as;
}

/** Whether the server's issuer is known (configured or discovered), so `iss` and ID tokens can be checked. */
export function issuerKnown(as: oauth.AuthorizationServer): boolean {
  return as.issuer !== UNKNOWN_ISSUER;
}

/** The client and its token-endpoint authentication, encoded by oauth4webapi for every grant. */
export function clientOf(client: ClientAuth): { client: oauth.Client; auth: oauth.ClientAuth } {
  const auth = client.clientSecret === undefined
    ? oauth.None()
    : client.method === "client_secret_post"
      ? oauth.ClientSecretPost(client.clientSecret)
      : oauth.ClientSecretBasic(client.clientSecret);
  return { client: { client_id: client.clientId }, auth };
}

/** The plugin's RFC 8707 resource indicators, `{base_url}` filled (empty when it names none). */
export function resourcesOf(plugin: ProviderPlugin, fill: (url: string) => string = (url) => url): string[] {
  const resource = plugin.oauth?.resource;
  if (resource === undefined) return [];
  return (typeof resource === "string" ? [resource] : resource).map(fill);
}

/** Form parameters with every `resource` (repeated, RFC 8707 2) and the given fields. */
export function withResources(resources: readonly string[], fields: Record<string, string> = {}): URLSearchParams {
  const params = new URLSearchParams(fields);
  for (const resource of resources) params.append("resource", resource);
  return params;
}

/** How one call reads its response: what to name in errors, the secrets to scrub, a body fix-up. */
export interface CallOptions {
  what: string;
  secrets: readonly (string | undefined)[];
  /** The code an OAuth error body becomes; default `provider_error`. */
  errorCode?: ErrorCode;
  /** Evens out one provider departure in a successful JSON body before oauth4webapi checks it. */
  patch?(body: Record<string, unknown>): void;
}

function _isLoopback(url: string): boolean {
  return URL.canParse(url) && ["127.0.0.1", "localhost", "[::1]"].includes(new URL(url).hostname);
}

/** Request options: the deadline, plain HTTP only to loopback (local servers, tests), our fetch. */
export function requestOptions(options: CallOptions, url: string): { signal: () => AbortSignal; [oauth.customFetch]: typeof fetch; [oauth.allowInsecureRequests]?: boolean } {
  const insecure = _isLoopback(url);
  return {
    signal: () => AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    [oauth.customFetch]: (input, init) => _fetch(String(input), init ?? {}, options),
    ...(insecure ? { [oauth.allowInsecureRequests]: true } : {}),
  };
}

/** Fetches and reads the body under the deadline; an OAuth error body becomes an OAuthError whatever the status. */
async function _fetch(url: string, init: RequestInit, options: CallOptions): Promise<Response> {
  let response: Response;
  let text: string;
  try {
    response = await fetch(url, init);
    text = await response.text();
  } catch (cause) {
    const reason = cause instanceof Error && cause.name === "TimeoutError" ? `no answer within ${REQUEST_TIMEOUT_MS / 1000} s` : "connection failed";
    throw new AuthsomeError("endpoint_unreachable", `${options.what}: cannot reach ${_host(url)} (${reason})`, { cause, hint: "check the network, or the provider's --base-url" });
  }
  const body = _json(text);
  // GitHub answers token errors with HTTP 200: an error member means an error at any status.
  const failure = v.safeParse(ErrorResponseSchema, body);
  if (failure.success) throw oauthError(failure.output, options.what, options.secrets, options.errorCode);
  if (body === undefined) return new Response(text, { status: response.status, headers: response.headers });
  if (response.ok) _normalize(body, options);
  return new Response(JSON.stringify(body), { status: response.status, headers: { "content-type": "application/json" } });
}

function _json(text: string): Record<string, unknown> | undefined {
  if (text.trim() === "") return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The departures every provider may have, plus the call's own. */
function _normalize(body: Record<string, unknown>, options: CallOptions): void {
  // RFC 6749 5.1 requires token_type; a few providers leave it out of otherwise good answers.
  if (typeof body["access_token"] === "string" && body["token_type"] === undefined) body["token_type"] = "bearer";
  options.patch?.(body);
}

/**
 * Token-type names oauth4webapi should accept besides bearer and DPoP: the provider's own (Slack
 * says `bot` or `user`); authsome sends a token the way the plugin's injection rule says.
 */
export function acceptTokenType(body: Record<string, unknown>): oauth.RecognizedTokenTypes {
  const type = typeof body["token_type"] === "string" ? body["token_type"].toLowerCase() : "bearer";
  return type === "bearer" || type === "dpop" ? {} : { [type]: () => {} };
}

function _host(url: string): string {
  return URL.canParse(url) ? new URL(url).host : "the provider";
}

/** Maps what oauth4webapi throws (a response it refuses) to our errors; ours pass through. */
export function mapError(error: unknown, options: CallOptions, url: string): AuthsomeError {
  if (error instanceof AuthsomeError) return error;
  if (error instanceof oauth.OperationProcessingError && error.code === oauth.HTTP_REQUEST_FORBIDDEN) {
    return new AuthsomeError("usage", `${options.what}: ${_host(url)} is plain http://, and OAuth endpoints must be https:// (plain HTTP is allowed on loopback only)`, { cause: error, hint: "fix the endpoint URL in the provider plugin, or --base-url" });
  }
  if (error instanceof oauth.ResponseBodyError) return oauthError({ error: error.error, error_description: error.error_description ?? null }, options.what, options.secrets);
  if (error instanceof oauth.WWWAuthenticateChallengeError) {
    const challenge = error.cause[0]?.parameters;
    return oauthError({ error: challenge?.error ?? "invalid_client", error_description: challenge?.error_description ?? null }, options.what, options.secrets);
  }
  const reason = error instanceof Error ? error.message : String(error);
  return new AuthsomeError("provider_error", `${options.what}: unexpected answer from ${_host(url)}: ${reason}`, { cause: error });
}

/** Turns a checked token response into what the flows store. */
export function toTokenSet(result: oauth.TokenEndpointResponse, idToken?: string): TokenSet {
  const expiresIn = result.expires_in;
  const id = result.id_token ?? idToken;
  return {
    accessToken: result.access_token,
    ...(result.refresh_token ? { refreshToken: result.refresh_token } : {}),
    ...(id ? { idToken: id } : {}),
    ...(result.token_type ? { tokenType: result.token_type } : {}),
    ...(typeof expiresIn === "number" && Number.isFinite(expiresIn) && expiresIn > 0 ? { expiresAt: new Date(Date.now() + expiresIn * 1000).toISOString() } : {}),
    // GitHub separates granted scopes with commas, the RFC with spaces.
    ...(result.scope ? { scopes: result.scope.split(/[\s,]+/).filter(Boolean) } : {}),
  };
}
