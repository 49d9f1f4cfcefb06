/**
 * The one place that decides which credential goes on which request. The proxy (`authsome
 * run`) and the in-process fetch interceptor both call this; nothing else renders credentials
 * into requests. Connections are read live from the vault on every decision, so a login made
 * while a run is going is used by its next request, and the provider's current default wins.
 */
import { AuthsomeError } from "./errors.ts";
import type { InjectionDecision, InjectionOptions, Injector, RequestSigner } from "./injector.ts";
import { createHookSigner } from "./plugin-sign.ts";
import { createSigV4Signer } from "./sigv4.ts";
import type { InjectionRule, ProviderPlugin } from "./plugin.ts";
import { type CredentialValues, findMatchingRule, hostMatchesAnyRule, renderInjection } from "./rules.ts";
import { readForInjection } from "./connections.ts";
import type { ServiceCore } from "./service.ts";
import { needsRefresh } from "./tokens.ts";
import type { Connection } from "./vault.ts";
import { createLastKnown } from "./last-known.ts";

/** Options for {@link createInjector}. */
export interface CreateInjectorOptions {
  /** Per-run provider -> connection choices (`run --connection p=NAME`). */
  connections?: Record<string, string>;
}

/** Builds the injector over a service's registry and vault. */
export function createInjector(core: ServiceCore, options: CreateInjectorOptions = {}): Injector {
  let plugins: Promise<ProviderPlugin[]> | undefined;
  // Plugin definitions are loaded once per injector; connections are read on every request.
  const allPlugins = () => (plugins ??= core.registry.list().then((list) => list.plugins));
  // Which plugins declare a host:port depends on the definitions only: computed once per host.
  const byHost = new Map<string, ProviderPlugin[]>();

  // The cached answer without an await (a decision per proxied request); a promise only to compute it.
  function declaring(host: string, port: number): ProviderPlugin[] | Promise<ProviderPlugin[]> {
    const key = `${host}:${port}`;
    return byHost.get(key) ?? allPlugins().then((all) => {
      const found = all.filter((p) => hostMatchesAnyRule(p, host, port));
      if (byHost.size >= MAX_CACHED_HOSTS) byHost.clear();
      byHost.set(key, found);
      return found;
    });
  }

  // Opened connections are reused while the store reports no change (a login, logout, refresh or
  // default switch by any process ends the reuse at once); without a watcher, read every time.
  const opened = new Map<string, Connection | null>();
  let watching: "no" | "yes" | "lost" = "no";
  let generation = 0;
  let unwatch: (() => void) | undefined;
  // A connection reused without an await while the store's feed is up (a decision per proxied request).
  function cachedConnection(plugin: ProviderPlugin, wanted: string | undefined): Connection | null | Promise<Connection | null> {
    return watching === "no" ? openConnection(plugin, wanted) : (reused(plugin, wanted) ?? openConnection(plugin, wanted));
  }
  function reused(plugin: ProviderPlugin, wanted: string | undefined): Connection | null | undefined {
    const key = `${plugin.name}\u0000${wanted ?? ""}`;
    const hit = opened.get(key);
    if (hit === undefined || (hit !== null && needsRefresh(hit, core.context.refreshMarginSeconds))) return undefined;
    lastKnown.confirm(key);
    return hit;
  }
  async function openConnection(plugin: ProviderPlugin, wanted: string | undefined): Promise<Connection | null> {
    if (watching === "no") {
      const store = await core.store();
      if (store.watchChanges !== undefined && watching === "no") {
        watching = "yes";
        const changed = () => {
          generation += 1;
          opened.clear();
        };
        unwatch = store.watchChanges(changed, () => ((watching = "lost"), changed()));
      }
    }
    const hit = reused(plugin, wanted);
    if (hit !== undefined) return hit;
    const key = `${plugin.name}\u0000${wanted ?? ""}`;
    const before = generation;
    const found = await readLive(plugin, wanted, key);
    // A change reported while reading may not be in what was read: keep it only if none came.
    if (watching === "yes" && generation === before) opened.set(key, found);
    return found;
  }

  // A store outage: the last-known connection for a bounded time (last-known.ts), then the error.
  const lastKnown = createLastKnown<Connection | null>((value) => value === null || !needsRefresh(value, 0));
  async function readLive(plugin: ProviderPlugin, wanted: string | undefined, key: string): Promise<Connection | null> {
    const stale = lastKnown.duringOutage(key);
    if (stale !== undefined) return stale.value;
    try {
      const found = await readForInjection(core, plugin, wanted);
      lastKnown.remember(key, found);
      return found;
    } catch (error) {
      const kept = lastKnown.afterFailure(key, error);
      if (kept === undefined) throw error;
      return kept.value;
    }
  }

  // Whether to intercept a host at all: during an outage, as last read (for the same bound).
  const lastConnected = createLastKnown<boolean>(() => true);
  async function isConnected(plugin: ProviderPlugin): Promise<boolean> {
    const stale = lastConnected.duringOutage(plugin.name);
    if (stale !== undefined) return stale.value;
    try {
      const connected = (await (await core.vault()).connectionNames(plugin.name)).length > 0;
      lastConnected.remember(plugin.name, connected);
      return connected;
    } catch (error) {
      const kept = lastConnected.afterFailure(plugin.name, error);
      if (kept === undefined) throw error;
      return kept.value;
    }
  }

  async function decide(url: URL, request: InjectionOptions = {}): Promise<InjectionDecision | null> {
    const port = Number(url.port || (url.protocol === "https:" ? 443 : 80));
    const declared = declaring(url.hostname, port);
    for (const plugin of Array.isArray(declared) ? declared : await declared) {
      const rule = findMatchingRule(plugin, url);
      if (rule === null) continue;
      const wanted = request.connection ?? request.connections?.[plugin.name] ?? options.connections?.[plugin.name];
      // One read per request: a provider with no usable connection reads as null here, so the
      // "is it connected" listing is only needed to word the error for an explicit choice.
      const cached = cachedConnection(plugin, wanted);
      const found = cached instanceof Promise ? await cached : cached;
      if (found === null) {
        if (wanted !== undefined && (await isConnected(plugin))) {
          throw new AuthsomeError("connection_not_found", `no connection "${wanted}" for ${plugin.name}`, { hint: `log in: authsome login ${plugin.name} --connection ${wanted}` });
        }
        continue;
      }
      return rendered(plugin, rule, found);
    }
    return null;
  }

  // A connection object lives until the store reports a change, so its rendering per rule can
  // be reused: the proxy renders the same header for every request to a host.
  const renderings = new WeakMap<Connection, Map<InjectionRule, InjectionDecision>>();
  function rendered(plugin: ProviderPlugin, rule: InjectionRule, found: Connection): InjectionDecision {
    let byRule = renderings.get(found);
    const hit = byRule?.get(rule);
    if (hit !== undefined) return hit;
    const fields: CredentialValues = { ...found.secrets, ...(found.meta.baseUrl ? { base_url: found.meta.baseUrl } : {}), ...(found.meta.clientId ? { client_id: found.meta.clientId } : {}) };
    // A signed provider gets a signer (per request headers) instead of rendered ones.
    const signing = signerFor(plugin, fields);
    const { headers, query, path } = signing === null ? renderInjection(rule, fields) : { headers: {}, query: {}, path: undefined };
    // Shared by every request that gets it: frozen so that no caller can change another's.
    const decision: InjectionDecision = Object.freeze({
      provider: plugin.name, connection: found.meta.connection, headers: Object.freeze(headers), query: Object.freeze(query),
      ...(rule.scrub === false ? { scrub: false } : {}), ...(path === undefined ? {} : { path: Object.freeze(path) }),
      ...(signing === null ? {} : { sign: signing.signer, secrets: Object.freeze(signing.secrets) }),
    });
    if (byRule === undefined) renderings.set(found, (byRule = new Map()));
    byRule.set(rule, decision);
    return decision;
  }

  return {
    async shouldIntercept(host, port) {
      for (const plugin of await declaring(host, port)) if (await isConnected(plugin)) return true;
      return false;
    },
    decide,
    close: () => unwatch?.(),
  };
}

/**
 * The signer of a provider whose requests are signed, or null: SigV4 for `aws_sigv4`, the
 * plugin's sandboxed hook for `sign` (loaded only when such a provider is used).
 */
function signerFor(plugin: ProviderPlugin, fields: CredentialValues): { signer: RequestSigner; secrets: string[] } | null {
  if (plugin.authType === "aws_sigv4") return createSigV4Signer(plugin.sigv4, fields);
  if (plugin.sign !== undefined && typeof plugin.sign === "object") return createHookSigner(plugin.name, plugin.sign, fields);
  return null;
}

/** Bound on the per-host plugin cache (a proxy sees few hosts; a scan must not grow it forever). */
const MAX_CACHED_HOSTS = 1024;
