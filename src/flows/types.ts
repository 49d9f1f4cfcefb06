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
  /**
   * Shows the URL (always, on stderr, before anything else), then opens it in the user's
   * browser when one is at hand and `--no-browser` was not given.
   */
  openUrl(url: string): Promise<void>;
  /** A secret piped on stdin (stdin is not a TTY), or undefined when stdin is interactive. */
  readPipedSecret(): Promise<string | undefined>;
  /**
   * Instructions the user must see to finish the login (a device code): shown even with
   * `--quiet`. Default: `notify`.
   */
  instruct?(message: string): void;
  /**
   * Whether a browser will be opened: false with `--no-browser`, over SSH, or without a
   * display. Flows then ask at the terminal instead of opening a local form. Default: true.
   */
  browserAtHand?(): boolean;
  /**
   * Asks one line at the terminal (hidden input for secrets). Absent when stdin is not a
   * terminal; rejects with auth_cancelled on Ctrl-C or after `timeoutMs`.
   */
  prompt?(question: string, options: { hidden: boolean; timeoutMs: number }): Promise<string>;
  /** Aborts the flow (Ctrl-C). */
  signal?: AbortSignal;
}

/** Everything a flow needs. @internal */
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

/** What a successful flow yields. @internal */
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
