/**
 * The service facade: everything the CLI, the daemon, the proxy and library users do goes
 * through one `AuthService`. It wires the context (home, profile), the store, the vault, the
 * plugin registry and the audit log, and holds the connection rules (defaults, --force).
 */
import { openAuditLog, type AuditEvent, type AuditTrail } from "./audit.ts";
import { checkName, resolveContext, type ServiceContext, type ServiceOptions } from "./context.ts";
import { AuthsomeError } from "./errors.ts";
import { loadCustodyKey, type CustodyKey } from "./key-custody.ts";
import type { FlowName, ProviderPlugin } from "./plugin.ts";
import type { LoginInteraction } from "./flow-registry.ts";
import { createRegistry, type Registry } from "./registry.ts";
import { createStore, type Store } from "./storage/index.ts";
import { Vault, type Connection, type ProviderSnapshot } from "./vault.ts";
import { connectionView, type ConnectionView } from "./views.ts";

/** Options for {@link AuthService.login}. */
export interface LoginOptions {
  connection?: string;
  flow?: FlowName;
  force?: boolean;
  scopes?: string[];
  baseUrl?: string;
  clientId?: string;
  /** An API key supplied directly (API and library use); skips the interactive flow. */
  apiKey?: string;
  /** How the flow reaches the user; required for interactive flows. */
  interaction?: LoginInteraction;
  /** How long to wait for the user; default 300 s. */
  timeoutMs?: number;
  /** Port of the loopback OAuth callback (must match the app's registered redirect URI). */
  redirectPort?: number;
}

/** Selects a connection; the provider's default when omitted. */
export interface ConnectionOptions {
  connection?: string;
}

/** Shared internals handed to the feature modules (connections, profiles, doctor). @internal */
export interface ServiceCore {
  readonly context: ServiceContext;
  store(): Promise<Store>;
  vault(): Promise<Vault>;
  masterKey(): Promise<CustodyKey>;
  readonly registry: Registry;
  /** The profile's audit log (one instance per core). */
  auditLog(): Promise<AuditTrail>;
  record(event: AuditEvent): Promise<void>;
  /** Records several events in one locked write (batched proxy injections). */
  recordMany(events: (AuditEvent & { time?: string })[]): Promise<void>;
}

/** Builds the shared internals lazily: nothing touches disk until a command needs it. @internal */
export function createServiceCore(options: ServiceOptions = {}): ServiceCore {
  const context = resolveContext(options);
  let store: Promise<Store> | undefined;
  let master: Promise<CustodyKey> | undefined;
  let vault: Promise<Vault> | undefined;
  let audit: Promise<AuditTrail> | undefined;
  const core: ServiceCore = {
    context,
    registry: createRegistry({ home: context.home, store: () => core.store(), sealKeys: async () => (await import("./shared-plugins.ts")).pluginSealKeys(core) }),
    store: () => (store ??= createStore({ home: context.home, spec: context.storageSpec })),
    // The CLI (askPassphrase) is told on stderr when a new home's key cannot go to the keyring.
    // The store is asked only when the home has no key: a machine of a shared store must not make one.
    masterKey: () => (master ??= loadCustodyKey(context, context.askPassphrase ? (line) => void process.stderr.write(`${line}\n`) : undefined, core.store)),
    vault: () =>
      (vault ??= (async () => {
        const [s, m] = await Promise.all([core.store(), core.masterKey()]);
        return new Vault(s.storage, s.lock, context.profile, m.key, s.locate);
      })()),
    async record(event) {
      await core.recordMany([event]);
    },
    auditLog: () => (audit ??= core.store().then((s) => openAuditLog(context.home, context.profile, s, context.actor))),
    async recordMany(events) {
      await (await core.auditLog()).recordMany(events);
    },
  };
  return core;
}

/**
 * Resolves which connection a request means: the named one or the provider's default, taken
 * from `snapshot` when the caller read one (so the whole command sees one default). A damaged
 * pointer only matters when the default is asked for. @internal
 */
export async function resolveConnectionName(vault: Vault, provider: string, connection?: string, snapshot?: ProviderSnapshot): Promise<string> {
  if (connection !== undefined) return checkName("connection", connection);
  const state = snapshot ?? (await vault.readProvider(provider));
  if (state.damage !== undefined) throw state.damage;
  const fallback = state.defaultConnection;
  if (fallback !== undefined) return fallback;
  const names = await vault.connectionNames(provider);
  if (names.length === 1 && names[0] !== undefined) return names[0];
  throw new AuthsomeError("connection_not_found", `no default connection for ${provider}`, {
    hint: names.length === 0 ? `log in first: authsome login ${provider}` : `pick one: authsome default ${provider} <${names.join("|")}>`,
  });
}

/** Reads a connection or throws connection_not_found with the login command to run. @internal */
export async function requireConnection(vault: Vault, provider: string, connection: string): Promise<Connection> {
  const found = await vault.read(provider, connection);
  if (found !== null) return found;
  throw new AuthsomeError("connection_not_found", `no connection "${connection}" for ${provider}`, {
    hint: `log in: authsome login ${provider}${connection === "default" ? "" : ` --connection ${connection}`}`,
  });
}

/** Builds the view of a stored connection, marking whether it is the default (per `snapshot` when given). @internal */
export async function viewOf(vault: Vault, found: Connection, showSecret: boolean, snapshot?: ProviderSnapshot): Promise<ConnectionView> {
  const state = snapshot ?? (await vault.readProvider(found.meta.provider));
  const isDefault = state.defaultConnection === found.meta.connection;
  return connectionView(found.meta, isDefault, found.secrets, showSecret);
}

/** Gets a plugin or throws provider_not_found. @internal */
export function getPlugin(core: ServiceCore, name: string): Promise<ProviderPlugin> {
  return core.registry.get(name);
}
