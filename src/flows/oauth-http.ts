/**
 * What every flow shares about the wire: the request deadline, the client a request is made
 * for, and provider errors turned into `OAuthError`s whose text reaches the user verbatim,
 * minus any secret we sent. The requests themselves are oauth4webapi's (src/flows/oauth-client.ts).
 */
import * as v from "valibot";
import type { ErrorCode } from "../core/errors.ts";
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
