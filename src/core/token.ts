/**
 * The one definition of a record's "token": what `{token}` renders into an injection, what
 * `getAccessToken()` returns and what `export` prints by default. An API key wins over an
 * access token (a record made by the api_key flow of a provider that also has OAuth holds only
 * the key; one holding both was given the key on purpose). Passwords are not tokens: basic
 * credentials are rendered from `{username}` and `{password}`.
 */
import type { CredentialField } from "./plugin.ts";

/** The fields a token may come from, in order of preference. */
export const TOKEN_FIELDS = ["api_key", "access_token"] as const satisfies readonly CredentialField[];

/** The record's token: its first non-empty {@link TOKEN_FIELDS} value, or undefined. */
export function credentialToken(fields: Partial<Record<CredentialField, string | undefined>>): string | undefined {
  for (const field of TOKEN_FIELDS) {
    const value = fields[field];
    if (value !== undefined && value !== "") return value;
  }
  return undefined;
}
