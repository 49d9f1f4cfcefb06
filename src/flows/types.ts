/**
 * The contract between the service and a login flow. A flow talks to the user only through
 * `LoginInteraction` (so the CLI, the daemon and tests can each supply their own) and returns
 * what to store; the service does the storing.
 */
import type { ProviderPlugin } from "../core/plugin.ts";
import type { ClientSecrets, Secrets } from "../core/records.ts";

/** How a flow reaches the person logging in. */
export interface LoginInteraction {
  /** Progress and instructions for the user (the CLI prints them on stderr). */
  notify(message: string): void;
  /** Opens a URL in the user's browser (or only prints it with `--no-browser`). */
  openUrl(url: string): Promise<void>;
  /** A secret piped on stdin (stdin is not a TTY), or undefined when stdin is interactive. */
  readPipedSecret(): Promise<string | undefined>;
  /** Aborts the flow (Ctrl-C). */
  signal?: AbortSignal;
}

/** Everything a flow needs. */
export interface FlowContext {
  plugin: ProviderPlugin;
  connection: string;
  interaction: LoginInteraction;
  scopes?: string[];
  baseUrl?: string;
  /** The OAuth client id given with `--client-id` (ids are not secret; secrets never come from argv). */
  clientId?: string;
  /** The OAuth app credentials saved in the vault for this provider (first-use secret or DCR registration). */
  savedClient?: ClientSecrets;
  /** Saves OAuth app credentials for reuse (DCR registrations, first-use secrets), encrypted in the vault. */
  saveClient?(client: ClientSecrets): Promise<void>;
  /** How long to wait for the user, in milliseconds. */
  timeoutMs: number;
  /** `login --redirect-port`: the loopback callback's port (the rest of the redirect URI is kept). */
  redirectPort?: number;
}

/** What a successful flow yields. */
export interface FlowResult {
  /** What to store encrypted: `api_key`, or `access_token` with `refresh_token`/`id_token`. */
  secrets: Secrets;
  /** Scopes granted (or requested, when the provider does not say). */
  scopes?: string[];
  /** ISO time the access token expires; absent when the provider gave no lifetime. */
  expiresAt?: string;
  tokenType?: string;
  /** The OAuth client the tokens belong to (refresh and revocation use it). */
  clientId?: string;
}
