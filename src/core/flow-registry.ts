/**
 * The contract between core and the login flows, and the registry the flows register into
 * (as unstorage drivers do): core names what it needs (a flow by name, the token operations on
 * stored connections, a local form for a secret) and the composition root (src/register.ts)
 * registers loaders for them. Core never imports src/flows/ or src/server/; a loader's module is
 * imported only when a login, refresh or revoke needs it, so a CLI start pays for none of them.
 */
import { AuthsomeError, type ErrorCode } from "./errors.ts";
import type { ProviderPlugin } from "./plugin.ts";
import type { ClientSecrets, Secrets } from "./records.ts";
import type { Connection } from "./vault.ts";

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

/** A parsed token response. @internal */
export interface TokenSet {
  accessToken: string;
  refreshToken?: string;
  idToken?: string;
  tokenType?: string;
  /** ISO time, when the provider said `expires_in`. */
  expiresAt?: string;
  /** Granted scopes, when the provider said `scope`. */
  scopes?: string[];
}

/** An OAuth error response (RFC 6749 5.2, RFC 8628 3.5, RFC 7591 3.2.2); `oauthCode` is what callers branch on. @internal */
export class OAuthError extends AuthsomeError {
  readonly oauthCode: string;
  readonly description: string | undefined;

  constructor(code: ErrorCode, message: string, oauthCode: string, description?: string) {
    super(code, message);
    this.oauthCode = oauthCode;
    this.description = description;
  }
}

/** What happened to one token at `revoke`. */
export interface TokenRevocation {
  connection: string;
  token: "refresh_token" | "access_token";
  /** `unsupported`: the provider has no RFC 7009 endpoint; the token stays valid until it expires. */
  outcome: "revoked" | "failed" | "unsupported";
  /** Why it failed (the provider's error, without secrets). */
  message?: string;
}

/** A login flow: asks the user, talks to the provider, returns what to store. @internal */
export type LoginFlow = (context: FlowContext) => Promise<FlowResult>;

/** The protocol work core asks for on stored connections. @internal */
export interface TokenOperations {
  /**
   * New tokens for a connection (a refresh grant, or client credentials again). Throws an
   * `OAuthError` with `invalid_grant` when the provider ended the grant, `needs_login` when it
   * cannot renew at all. Called under the connection's lock (src/core/refresh.ts).
   */
  renew(plugin: ProviderPlugin, current: Connection, savedClient: ClientSecrets | null): Promise<TokenSet>;
  /** Revokes a connection's tokens where the provider allows it (RFC 7009); reports each token, never throws. */
  revoke(plugin: ProviderPlugin, found: Connection, savedClient: ClientSecrets | null): Promise<TokenRevocation[]>;
}

/** What the local secret form is asked for. @internal */
export interface SecretFormOptions {
  plugin: ProviderPlugin;
  connection: string;
  interaction: LoginInteraction;
  timeoutMs: number;
  /** Returns a message when the value is refused (shown on the form), or null. */
  validate(value: string): string | null;
  /** Label of the field; default "API key". */
  label?: string;
  /** An empty value may be submitted (a public OAuth client has no secret). */
  optional?: boolean;
}

/** A one-time local form collecting a secret (src/server/api-key-form.ts). @internal */
export type SecretForm = (options: SecretFormOptions) => Promise<string>;

type Loader<T> = () => Promise<T>;

const _flows = new Map<string, Loader<LoginFlow>>();
let _tokenOperations: Loader<TokenOperations> | undefined;
let _secretForm: Loader<SecretForm> | undefined;

/** Registers a login flow's loader under its name (`pkce`, `device_code`, ...); a later one replaces it. @internal */
export function registerFlow(name: string, load: Loader<LoginFlow>): void {
  _flows.set(name, load);
}

/** Registers the loader of the token operations (refresh, revocation). @internal */
export function registerTokenOperations(load: Loader<TokenOperations>): void {
  _tokenOperations = load;
}

/** Registers the loader of the local secret form. @internal */
export function registerSecretForm(load: Loader<SecretForm>): void {
  _secretForm = load;
}

/** The names of the registered flows. @internal */
export function registeredFlows(): string[] {
  return [..._flows.keys()];
}

/** Loads a registered flow; `usage` when this build has none by that name. @internal */
export async function loadFlow(name: string): Promise<LoginFlow> {
  const load = _flows.get(name);
  if (load === undefined) throw new AuthsomeError("usage", `the ${name} flow is not available in this version of authsome`);
  return load();
}

/** Loads the token operations; a build without the OAuth flows cannot refresh or revoke. @internal */
export async function loadTokenOperations(): Promise<TokenOperations> {
  if (_tokenOperations === undefined) {
    throw new AuthsomeError("internal", "no OAuth flows are registered in this process", { hint: "import authsome from its package entry (\"authsome-broker\"), which registers them" });
  }
  return _tokenOperations();
}

/** Loads the local secret form, or undefined when none is registered (the caller asks elsewhere). @internal */
export async function loadSecretForm(): Promise<SecretForm | undefined> {
  return _secretForm === undefined ? undefined : _secretForm();
}
