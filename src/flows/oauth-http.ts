/**
 * The wire side of OAuth2 shared by every flow: form and JSON requests with a deadline, token
 * and error responses parsed with valibot, and provider errors turned into `OAuthError`s whose
 * text reaches the user verbatim, minus any secret we sent.
 */
import { encodeBase64 } from "@oslojs/encoding";
import * as v from "valibot";
import { AuthsomeError, type ErrorCode } from "../core/errors.ts";
import { OAuthError, type TokenSet } from "../core/flow-registry.ts";

export { OAuthError, type TokenSet };

/** How long one request to a provider may take. */
export const REQUEST_TIMEOUT_MS = 30_000;

/** The OAuth client making a request and how it authenticates at the token endpoint. */
export interface ClientAuth {
  clientId: string;
  /** Absent for public clients (PKCE, device flow): `client_id` goes in the body instead. */
  clientSecret?: string;
  /** RFC 6749 2.3.1; default `client_secret_basic`. */
  method?: "client_secret_basic" | "client_secret_post";
}

// Some providers send numbers as strings (`"expires_in": "3600"`).
const Seconds = v.union([v.number(), v.pipe(v.string(), v.toNumber())]);

/** RFC 6749 5.1. */
export const TokenResponseSchema = v.object({
  access_token: v.pipe(v.string(), v.nonEmpty("missing or empty 'access_token'")),
  token_type: v.optional(v.string()),
  expires_in: v.optional(v.nullable(Seconds)),
  refresh_token: v.optional(v.nullable(v.string())),
  scope: v.optional(v.nullable(v.string())),
  id_token: v.optional(v.nullable(v.string())),
});

/** RFC 6749 5.2 (also used by device polling, DCR and revocation). */
export const ErrorResponseSchema = v.object({
  error: v.pipe(v.string(), v.nonEmpty()),
  error_description: v.optional(v.nullable(v.string())),
});

/** Removes every value we sent that is secret, control characters, and excess length. */
export function scrub(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text.replaceAll(/[\u0000-\u001f\u007f]+/g, " ");
  for (const secret of secrets) if (secret !== undefined && secret.length >= 4) out = out.replaceAll(secret, "<redacted>");
  return out.length > 300 ? `${out.slice(0, 300)}…` : out;
}

/** Builds an OAuthError from a parsed error body. */
export function oauthError(body: v.InferOutput<typeof ErrorResponseSchema>, what: string, secrets: readonly (string | undefined)[], code: ErrorCode = "provider_error"): OAuthError {
  const error = scrub(body.error, secrets);
  const description = body.error_description ? scrub(body.error_description, secrets) : undefined;
  return new OAuthError(code, `${what}: ${error}${description ? `: ${description}` : ""}`, error, description);
}

/** Parses a token endpoint body (whatever its status: GitHub sends errors with 200). */
export function parseTokenBody(body: unknown, status: number, what: string, secrets: readonly (string | undefined)[]): TokenSet {
  const failure = v.safeParse(ErrorResponseSchema, body);
  if (failure.success) throw oauthError(failure.output, what, secrets);
  if (status < 200 || status > 299 || body === null) {
    throw new AuthsomeError("provider_error", `${what}: unexpected HTTP ${status}${body === null ? " response that is not JSON" : ""} from the token endpoint`);
  }
  const parsed = v.safeParse(TokenResponseSchema, body);
  if (!parsed.success) {
    const field = parsed.issues[0].path?.map((item) => String(item.key)).join(".") ?? "(body)";
    throw new AuthsomeError("provider_error", `${what}: invalid token response: field "${field}": ${parsed.issues[0].message}`);
  }
  const token = parsed.output;
  const expiresIn = token.expires_in;
  return {
    accessToken: token.access_token,
    ...(token.refresh_token ? { refreshToken: token.refresh_token } : {}),
    ...(token.id_token ? { idToken: token.id_token } : {}),
    ...(token.token_type ? { tokenType: token.token_type } : {}),
    ...(typeof expiresIn === "number" && Number.isFinite(expiresIn) && expiresIn > 0 ? { expiresAt: new Date(Date.now() + expiresIn * 1000).toISOString() } : {}),
    // GitHub separates granted scopes with commas, the RFC with spaces.
    ...(token.scope ? { scopes: token.scope.split(/[\s,]+/).filter(Boolean) } : {}),
  };
}

/** Fetches with the request deadline; a network failure is `endpoint_unreachable` naming the host. */
export async function send(url: string, init: RequestInit, what: string): Promise<{ status: number; body: unknown }> {
  let response: Response;
  try {
    response = await fetch(url, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  } catch (cause) {
    const reason = cause instanceof Error && cause.name === "TimeoutError" ? `no answer within ${REQUEST_TIMEOUT_MS / 1000} s` : "connection failed";
    throw new AuthsomeError("endpoint_unreachable", `${what}: cannot reach ${new URL(url).host} (${reason})`, { cause, hint: "check the network, or the provider's --base-url" });
  }
  const text = await response.text();
  if (text.trim() === "") return { status: response.status, body: {} };
  try {
    return { status: response.status, body: JSON.parse(text) };
  } catch {
    // An HTML error page or a form-encoded body: callers report the status, never the text.
    return { status: response.status, body: null };
  }
}

/** Adds client authentication to a form request (RFC 6749 2.3.1). */
export function authenticate(params: URLSearchParams, headers: Headers, client: ClientAuth): void {
  if (client.clientSecret === undefined) {
    params.set("client_id", client.clientId);
  } else if (client.method === "client_secret_post") {
    params.set("client_id", client.clientId);
    params.set("client_secret", client.clientSecret);
  } else {
    const pair = `${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.clientSecret)}`;
    headers.set("Authorization", `Basic ${encodeBase64(new TextEncoder().encode(pair))}`);
  }
}

/** POSTs an authenticated form to an OAuth endpoint; returns the status and JSON body. */
export function postForm(url: string, fields: Record<string, string>, client: ClientAuth, what: string): Promise<{ status: number; body: unknown }> {
  const params = new URLSearchParams(fields);
  const headers = new Headers({ "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json", "User-Agent": "authsome" });
  authenticate(params, headers, client);
  return send(url, { method: "POST", headers, body: params.toString() }, what);
}

/** A token request (device code, client credentials, or any grant with `client_secret_post`). */
export async function requestToken(url: string, fields: Record<string, string>, client: ClientAuth, what: string): Promise<TokenSet> {
  const { status, body } = await postForm(url, fields, client, what);
  return parseTokenBody(body, status, what, [...Object.values(fields), client.clientSecret]);
}
