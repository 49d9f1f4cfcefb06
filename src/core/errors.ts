/**
 * One error class for the whole product, with stable string codes.
 *
 * Codes map to CLI exit codes (design.md, "CLI contract") and to HTTP statuses for the
 * `/v1` API. A message never contains a secret value: callers interpolate names
 * (provider, connection, file, field), never tokens or keys.
 */

/** Every error code authsome raises, with its CLI exit code and HTTP status. */
export const ERROR_CODES = {
  internal: { exit: 1, status: 500 },
  usage: { exit: 2, status: 400 },
  auth_failed: { exit: 2, status: 401 },
  auth_cancelled: { exit: 2, status: 400 },
  unauthorized: { exit: 2, status: 401 },
  connection_not_found: { exit: 3, status: 404 },
  profile_not_found: { exit: 3, status: 404 },
  provider_not_found: { exit: 4, status: 404 },
  credential_missing: { exit: 5, status: 409 },
  needs_login: { exit: 5, status: 409 },
  refresh_failed: { exit: 5, status: 502 },
  connection_exists: { exit: 6, status: 409 },
  profile_exists: { exit: 6, status: 409 },
  provider_exists: { exit: 7, status: 409 },
  endpoint_unreachable: { exit: 8, status: 502 },
  daemon_unavailable: { exit: 9, status: 503 },
  plugin_invalid: { exit: 1, status: 422 },
  sign_failed: { exit: 1, status: 502 },
  record_invalid: { exit: 1, status: 500 },
  record_tampered: { exit: 1, status: 500 },
  master_key_invalid: { exit: 1, status: 500 },
  keyring_unavailable: { exit: 1, status: 503 },
  machine_no_access: { exit: 1, status: 403 },
  storage_failed: { exit: 1, status: 500 },
  lock_timeout: { exit: 1, status: 503 },
  lock_lost: { exit: 1, status: 503 },
  store_unavailable: { exit: 1, status: 503 },
  store_auth_failed: { exit: 1, status: 503 },
  audit_broken: { exit: 1, status: 500 },
  provider_error: { exit: 2, status: 502 },
  command_not_found: { exit: 127, status: 400 },
  command_not_executable: { exit: 126, status: 400 },
  host_refused: { exit: 2, status: 421 },
  host_not_brokered: { exit: 2, status: 421 },
  origin_refused: { exit: 2, status: 403 },
  content_type_refused: { exit: 2, status: 415 },
} as const satisfies Record<string, { exit: number; status: number }>;

/** A stable, documented error code (see docs/cli.md). */
export type ErrorCode = keyof typeof ERROR_CODES;

/** Options for {@link AuthsomeError}. */
export interface AuthsomeErrorOptions {
  /** The underlying error; kept for debugging (`AUTHSOME_DEBUG=1`), never shown by default. */
  cause?: unknown;
  /** A one-line hint telling the user what to do next. */
  hint?: string;
}

/** The base (and only) error class: `code` is what callers branch on. */
export class AuthsomeError extends Error {
  readonly code: ErrorCode;
  readonly hint?: string;

  constructor(code: ErrorCode, message: string, options: AuthsomeErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "AuthsomeError";
    this.code = code;
    if (options.hint !== undefined) this.hint = options.hint;
  }

  /** The process exit code for this error (design.md exit-code table). */
  get exitCode(): number {
    return ERROR_CODES[this.code].exit;
  }

  /** The HTTP status the `/v1` API answers with. */
  get status(): number {
    return ERROR_CODES[this.code].status;
  }

  /** The JSON body used by the API and by `--json` error output. */
  toJSON(): { error: ErrorCode; message: string; hint?: string } {
    return this.hint === undefined
      ? { error: this.code, message: this.message }
      : { error: this.code, message: this.message, hint: this.hint };
  }
}

/** True when `value` is one of the documented error codes. */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && Object.hasOwn(ERROR_CODES, value);
}

/** Wraps anything thrown into an AuthsomeError, keeping AuthsomeErrors as they are. */
export function toAuthsomeError(error: unknown): AuthsomeError {
  if (error instanceof AuthsomeError) return error;
  return new AuthsomeError("internal", "unexpected failure (set AUTHSOME_DEBUG=1 for details)", {
    cause: error,
  });
}
