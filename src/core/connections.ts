/**
 * Connection operations: login, get, export, logout, default, list, inspect. The rules live
 * here: a connection is not overwritten without --force; --force also takes the default slot;
 * the first connection of a provider becomes its default; removing the default promotes another.
 */
import { AuthsomeError, toAuthsomeError } from "./errors.ts";
import type { CredentialField, FlowName, ProviderPlugin } from "./plugin.ts";
import type { ConnectionMeta, Secrets } from "./records.ts";
import {
  type ConnectionOptions,
  getPlugin,
  type LoginOptions,
  requireConnection,
  resolveConnectionName,
  type ServiceCore,
  viewOf,
} from "./service.ts";
import { checkName } from "./context.ts";
import { ensureFresh } from "./tokens.ts";
import { credentialToken } from "./token.ts";
import { isDamage, type Vault } from "./vault.ts";
import { connectionView, defaultFlows, providerView, type ConnectionView, type ProviderView } from "./views.ts";
import { type FlowResult, loadFlow, loadTokenOperations, type TokenRevocation } from "./flow-registry.ts";

function pickFlow(plugin: ProviderPlugin, requested: FlowName | undefined): FlowName {
  const flows = defaultFlows(plugin) as FlowName[];
  if (requested === undefined) return flows[0] ?? "api_key";
  if (!flows.includes(requested)) {
    throw new AuthsomeError("usage", `${plugin.name} does not support the ${requested} flow`, {
      hint: `supported: ${flows.join(", ")}`,
    });
  }
  return requested;
}

async function acquire(core: ServiceCore, plugin: ProviderPlugin, flow: FlowName, connection: string, options: LoginOptions): Promise<FlowResult> {
  if (options.apiKey !== undefined) {
    if (flow !== "api_key") throw new AuthsomeError("usage", "an API key was given for a flow that does not take one");
    const { checkApiKey } = await import("./api-key.ts");
    const problem = checkApiKey(plugin, options.apiKey.trim());
    if (problem !== null) throw new AuthsomeError("usage", `key refused: ${problem}`);
    return { secrets: { api_key: options.apiKey.trim() } };
  }
  if (options.interaction === undefined) {
    throw new AuthsomeError("usage", `logging in to ${plugin.name} needs an interactive session`, {
      hint: `run \`authsome login ${plugin.name}\` in a terminal`,
    });
  }
  const vault = await core.vault();
  // The flow picks the secret: the saved one when the ids match, else stdin or the form.
  const saved = await vault.getClient(plugin.name);
  const run = await loadFlow(flow);
  return run({
    plugin,
    connection,
    interaction: options.interaction,
    ...(options.scopes === undefined ? {} : { scopes: options.scopes }),
    ...(options.baseUrl === undefined ? {} : { baseUrl: options.baseUrl }),
    ...(options.clientId === undefined ? {} : { clientId: options.clientId }),
    ...(saved === null ? {} : { savedClient: saved }),
    saveClient: (value) => vault.setClient(plugin.name, value),
    timeoutMs: options.timeoutMs ?? 300_000,
    ...(options.redirectPort === undefined ? {} : { redirectPort: options.redirectPort }),
  });
}

/** Runs a provider's login flow and stores the connection. @internal */
export async function login(core: ServiceCore, provider: string, options: LoginOptions): Promise<ConnectionView> {
  const plugin = await getPlugin(core, provider);
  const connection = checkName("connection", options.connection ?? "default");
  const flow = pickFlow(plugin, options.flow);
  const vault = await core.vault();
  const exists = () =>
    new AuthsomeError("connection_exists", `${provider} already has a connection "${connection}"`, {
      hint: `add --force to replace it, or pick another name with --connection`,
    });
  // Checked before the flow so nobody pastes a key only to be refused; checked again under the lock.
  if (!options.force && (await vault.getMeta(provider, connection)) !== null) throw exists();
  const result = await acquire(core, plugin, flow, connection, options);
  const now = new Date().toISOString();
  const meta: ConnectionMeta = {
    provider,
    connection,
    authType: plugin.authType,
    flow,
    status: "connected",
    createdAt: now,
    updatedAt: now,
    ...(result.scopes === undefined ? {} : { scopes: result.scopes }),
    ...(result.expiresAt === undefined ? {} : { expiresAt: result.expiresAt }),
    ...(result.tokenType === undefined ? {} : { tokenType: result.tokenType }),
    ...(result.clientId === undefined ? {} : { clientId: result.clientId }),
    ...(options.baseUrl === undefined ? {} : { baseUrl: options.baseUrl }),
  };
  const isDefault = await vault.withProviderLock(provider, async () => {
    const previous = await vault.getMeta(provider, connection).catch((error: unknown) => {
      if (options.force === true && isDamage(error)) return null; // --force replaces a damaged record
      throw error;
    });
    if (previous !== null && !options.force) throw exists();
    if (previous !== null) meta.createdAt = previous.createdAt;
    await vault.write(meta, result.secrets);
    // A damaged pointer reads as unset here, so this login rewrites it.
    const current = await vault.getDefault(provider);
    const stale = current === undefined || (await vault.getMeta(provider, current).catch(() => null)) === null;
    if (options.force || stale) await vault.setDefault(provider, connection);
    return options.force === true || stale || current === connection;
  });
  return connectionView(meta, isDefault, result.secrets, false);
}

/** Reads a connection (refreshing an expiring token first). @internal */
export async function getConnection(core: ServiceCore, provider: string, options: ConnectionOptions & { showSecret?: boolean }): Promise<ConnectionView> {
  const plugin = await getPlugin(core, provider);
  const vault = await core.vault();
  // One read of the default pointer decides both which connection and its is_default.
  const snapshot = await vault.readProvider(provider);
  const name = await resolveConnectionName(vault, provider, options.connection, snapshot);
  const found = await ensureFresh(core, plugin, await requireConnection(vault, provider, name));
  return viewOf(vault, found, options.showSecret === true, snapshot);
}

/** The credential value injected for a connection: its token (token.ts), refreshed first. @internal */
export async function getAccessToken(core: ServiceCore, provider: string, options: ConnectionOptions = {}): Promise<string> {
  const view = await getConnection(core, provider, { ...options, showSecret: true });
  const token = credentialToken(view.secrets ?? {});
  if (token === undefined) {
    throw new AuthsomeError("credential_missing", `${provider}/${view.connection} holds no token`, {
      hint: `log in again: authsome login ${provider} --connection ${view.connection} --force`,
    });
  }
  return token;
}

/** Fields `export` may print: never a refresh token or client secret. */
const EXPORTABLE: readonly CredentialField[] = ["api_key", "access_token", "id_token", "username", "password", "base_url", "client_id", "access_key_id", "secret_access_key", "session_token"];

/** The env mapping of a provider's connection (e.g. `OPENAI_API_KEY`). @internal */
export async function exportEnv(core: ServiceCore, provider: string, options: ConnectionOptions = {}): Promise<Record<string, string>> {
  const plugin = await getPlugin(core, provider);
  const view = await getConnection(core, provider, { ...options, showSecret: true });
  const fields: Record<string, string | undefined> = { ...view.secrets, base_url: view.base_url, client_id: view.client_id };
  const upper = provider.toUpperCase().replaceAll(/[^A-Z0-9]/g, "_");
  const env: Record<string, string> = {};
  if (plugin.env === undefined) {
    // No mapping declared: the record's token (token.ts), under the provider's conventional name.
    const token = credentialToken(fields);
    if (token !== undefined) env[plugin.authType === "oauth2" ? `${upper}_ACCESS_TOKEN` : `${upper}_API_KEY`] = token;
    return env;
  }
  for (const [name, field] of Object.entries(plugin.env)) {
    const value = fields[field];
    if (EXPORTABLE.includes(field) && value !== undefined) env[name] = value;
  }
  return env;
}

/** Makes a connection the provider's default. @internal */
export async function setDefaultConnection(core: ServiceCore, provider: string, connection: string): Promise<ConnectionView> {
  await getPlugin(core, provider);
  const vault = await core.vault();
  const name = checkName("connection", connection);
  return vault.withProviderLock(provider, async () => {
    const meta = await vault.getMeta(provider, name);
    if (meta === null) throw new AuthsomeError("connection_not_found", `no connection "${name}" for ${provider}`, { hint: `see: authsome inspect ${provider}` });
    await vault.setDefault(provider, name);
    return connectionView(meta, true);
  });
}

/** Removes local records: one connection (default when unnamed) or, with `all`, every one. @internal */
export async function logout(core: ServiceCore, provider: string, options: ConnectionOptions & { all?: boolean }): Promise<string[]> {
  await getPlugin(core, provider);
  const vault = await core.vault();
  return vault.withProviderLock(provider, async () => {
    const names = options.all === true ? await vault.connectionNames(provider) : [await resolveConnectionName(vault, provider, options.connection)];
    if (options.all !== true && (await vault.getMeta(provider, names[0] ?? "")) === null) {
      throw new AuthsomeError("connection_not_found", `no connection "${names[0]}" for ${provider}`, { hint: `see: authsome inspect ${provider}` });
    }
    for (const name of names) await vault.remove(provider, name);
    await promoteDefault(vault, provider);
    return names;
  });
}

/** What `revoke` did: remote revocation per token, then the local records removed. */
export interface RevokeReport {
  provider: string;
  removed: string[];
  /** True when the saved OAuth client (id, secret or DCR registration) was removed too. */
  client_removed: boolean;
  tokens: TokenRevocation[];
}

/**
 * Revokes tokens at the provider (RFC 7009, where it has an endpoint), then clears local state:
 * every connection, the saved client and the default, or only the named connection. A provider
 * error is reported, never a reason to keep local secrets.
 * @internal
 */
export async function revoke(core: ServiceCore, provider: string, options: ConnectionOptions = {}): Promise<RevokeReport> {
  const plugin = await getPlugin(core, provider);
  const vault = await core.vault();
  const named = options.connection !== undefined;
  const names = named ? [checkName("connection", options.connection ?? "")] : await vault.connectionNames(provider);
  if (named && (await vault.getMeta(provider, names[0] ?? "")) === null) {
    throw new AuthsomeError("connection_not_found", `no connection "${names[0]}" for ${provider}`, { hint: `see: authsome inspect ${provider}` });
  }
  const saved = await vault.getClient(provider);
  // Only OAuth connections hold tokens a provider can revoke.
  const operations = plugin.authType === "oauth2" && names.length > 0 ? await loadTokenOperations() : undefined;
  const tokens: TokenRevocation[] = [];
  for (const name of names) {
    const found = await vault.read(provider, name).catch(() => null);
    const reports = found === null || operations === undefined ? [] : await operations.revoke(plugin, found, saved);
    for (const report of reports.filter((r) => r.outcome !== "unsupported")) {
      await core.record({ action: "revoke_token", provider, connection: name, outcome: report.outcome === "revoked" ? "ok" : "error", ...(report.outcome === "failed" ? { error: "provider_error" } : {}) });
    }
    tokens.push(...reports);
  }
  await vault.withProviderLock(provider, async () => {
    for (const name of names) await vault.remove(provider, name);
    if (named) await promoteDefault(vault, provider);
    else {
      await vault.setClient(provider, null);
      await vault.setDefault(provider, undefined);
    }
  });
  return { provider, removed: names, client_removed: !named && saved !== null, tokens };
}

/** After a removal: keep the default if it still exists, else promote the first remaining one. */
async function promoteDefault(vault: Vault, provider: string): Promise<void> {
  const current = await vault.getDefault(provider);
  if (current !== undefined && (await vault.getMeta(provider, current)) !== null) return;
  const remaining = await vault.connectionNames(provider);
  await vault.setDefault(provider, remaining.includes("default") ? "default" : remaining[0]);
}

/** A record that could not be read, reported beside the listing instead of failing it. */
export interface DamagedRecord {
  source: string;
  message: string;
}

async function connectionsOf(vault: Vault, provider: string, defaultName: string | undefined, damaged: DamagedRecord[]): Promise<ConnectionView[]> {
  const views: ConnectionView[] = [];
  for (const name of await vault.connectionNames(provider)) {
    try {
      const meta = await vault.getMeta(provider, name);
      if (meta !== null) views.push(connectionView(meta, name === defaultName));
    } catch (error) {
      // One damaged record hides only itself (issue 11).
      if (!isDamage(error)) throw error;
      damaged.push({ source: vault.locate("conn", provider, name), message: error.message });
    }
  }
  return views;
}

/** Every provider (bundled and installed) with its connections; plugin load errors and damaged records alongside. @internal */
export async function listProviders(core: ServiceCore): Promise<{ providers: ProviderView[]; errors: { source: string; message: string }[]; damaged: DamagedRecord[] }> {
  const [{ plugins, sources, errors }, vault] = await Promise.all([core.registry.list(), core.vault()]);
  const providers: ProviderView[] = [];
  const damaged: DamagedRecord[] = [];
  // The whole profile in two store reads (vault-overview.ts), whatever the number of providers
  // and connections: a thousand connections used to be a thousand reads (issue 14).
  const overview = await vault.overview();
  for (const plugin of plugins) {
    const state = overview.provider(plugin.name);
    if (state.damage !== undefined) damaged.push({ source: vault.locate("prov", plugin.name), message: state.damage.message });
    const views: ConnectionView[] = [];
    for (const { name, meta, damage } of overview.connections(plugin.name)) {
      if (meta !== undefined) views.push(connectionView(meta, name === state.defaultConnection));
      // One damaged record hides only itself (issue 11).
      else if (damage !== undefined) damaged.push({ source: vault.locate("conn", plugin.name, name), message: damage.message });
    }
    providers.push(providerView(plugin, sources[plugin.name] ?? "bundled", state.defaultConnection, views));
  }
  return { providers, errors, damaged };
}

/** One provider's definition and every connection's status. @internal */
export async function inspectProvider(core: ServiceCore, provider: string): Promise<ProviderView & { definition: ProviderPlugin; damaged?: DamagedRecord[] }> {
  const plugin = await getPlugin(core, provider);
  const vault = await core.vault();
  const defaultName = await vault.getDefault(provider);
  const source = (await core.registry.list()).sources[provider] ?? "bundled";
  const damaged: DamagedRecord[] = [];
  const view = providerView(plugin, source, defaultName, await connectionsOf(vault, provider, defaultName, damaged));
  return { ...view, definition: plugin, ...(damaged.length > 0 ? { damaged } : {}) };
}

/** Failures that say nothing about the connection: the store did not answer. */
const STORE_DOWN = new Set<string>(["store_unavailable", "store_auth_failed"]);

/** Secrets of a connection for the injector (no view, no redaction). @internal */
export async function readForInjection(core: ServiceCore, plugin: ProviderPlugin, connection?: string): Promise<{ meta: ConnectionMeta; secrets: Secrets } | null> {
  const vault = await core.vault();
  let name: string;
  try {
    name = await resolveConnectionName(vault, plugin.name, connection);
  } catch (error) {
    // No usable connection reads as none; a store that cannot answer is not "none" (the
    // injector may then serve the last-known one: last-known.ts).
    if (STORE_DOWN.has(toAuthsomeError(error).code)) throw error;
    return null;
  }
  const found = await vault.read(plugin.name, name);
  return found === null ? null : ensureFresh(core, plugin, found);
}
