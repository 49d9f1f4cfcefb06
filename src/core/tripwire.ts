/**
 * Tripwires (issue 10): a request that carries provider P's placeholder (this run's, see
 * placeholder.ts) or one of P's stored secrets, to a host P does not declare, is an
 * exfiltration attempt: the egress pipeline (egress.ts) answers it 403 and audits it as
 * `egress.exfiltration`. Sent to P's own hosts, a placeholder is simply replaced by injection.
 *
 * Looked for in the agent's URL and header values (before injection, so what authsome adds is
 * never mistaken for the agent's), and in request bodies as they stream ({@link BodyScan}: only
 * a possible prefix is held back, nothing is buffered whole, tripwire-scan.ts) up to {@link MAX_BODY_SCAN} bytes.
 * Every form the response scrubber knows (raw, URL-encoded, base64 at any alignment so Basic
 * credentials too, hex, JSON-escaped) trips. Secrets are read from the vault once and again
 * whenever the store reports a change (or after a second, for stores that cannot report).
 */
import type { AuditEvent } from "./audit.ts";
import type { ProviderPlugin } from "./plugin.ts";
import { type CredentialValues, hostMatchesAnyRule, normaliseHost, renderInjection } from "./rules.ts";
import { decisionSecrets, MIN_SECRET_LENGTH, secretForms } from "./scrub.ts";
import type { ServiceCore } from "./service.ts";
import { createLastKnown } from "./last-known.ts";
import { BodyScan, MAX_BODY_SCAN, Matcher, type Needle, type TripwireHit } from "./tripwire-scan.ts";

export { BodyScan, MAX_BODY_SCAN, type TripwireHit };

/** The one key of the tripwire's last-known value: all needles are read together. */
const NEEDLES = "needles";

/** Without a change feed from the store, secrets are re-read at most this often. */
const REREAD_MS = 1000;
/** Providers whose placeholder answer is kept (a run knows the catalogue's ~130 and its plugins'). */
const MAX_PLACEHOLDERS = 1024;
const SECRET_FIELDS = ["api_key", "access_token", "refresh_token", "id_token", "password", "secret_access_key", "session_token"] as const;


/** The run's tripwires, shared by every request of a proxy or interceptor. */
export interface Tripwire {
  /** The first exfiltration in the agent's URL or header values, or null. */
  check(url: URL, rawHeaders: readonly string[]): Promise<TripwireHit | null>;
  /** A scanner for the body of a request to `url` (before injection). */
  body(url: URL): Promise<BodyScan>;
  /** The 403 text for a hit (names the provider and the host, never the value). */
  reason(hit: TripwireHit, host: string): string;
  /** This run's placeholder for a provider (a path rule replaces it, egress.ts), if it has one. */
  placeholder(provider: string): Promise<string | undefined>;
  /** Audits a hit (`egress.exfiltration`); never a value. */
  report(hit: TripwireHit, host: string, method: string): void;
  close(): void;
}

/** Options for {@link createTripwire}. */
export interface TripwireOptions {
  /** This run's placeholders (provider -> value), asked for when the needles are first read. */
  placeholders?: () => Promise<Record<string, string>>;
  /** Where exfiltration events go (the audit batcher). */
  onEvent?(event: AuditEvent): void;
}


/** Builds the tripwires of one run (or interceptor) over a service's registry and vault. */
export function createTripwire(core: ServiceCore, options: TripwireOptions = {}): Tripwire {
  return new RunTripwire(core, options);
}

class RunTripwire implements Tripwire {
  private readonly core: ServiceCore;
  private readonly options: TripwireOptions;
  private plugins: Promise<Map<string, ProviderPlugin>> | undefined;
  /** provider, host:port -> declared (plugin definitions are fixed for a run). */
  private readonly declares = new Map<string, boolean>();
  private current: Matcher | null = null;
  private builtAt = 0;
  private building: Promise<Matcher> | null = null;
  private watch: "no" | "yes" | "lost" = "no";
  private unwatch: (() => void) | undefined;
  private readonly lastKnown = createLastKnown<Matcher>(() => true);
  private placeholders: Promise<Record<string, string>> | undefined;
  private readonly placeholderOf = new Map<string, Promise<string | undefined>>();

  constructor(core: ServiceCore, options: TripwireOptions) {
    this.core = core;
    this.options = options;
  }

  async check(url: URL, rawHeaders: readonly string[]): Promise<TripwireHit | null> {
    const m = this._fresh() ?? (await this._matcher());
    if (m.empty) return null;
    // One scan over the URL and every header value, joined by NUL (no header value holds one).
    const href = url.href;
    let text = href;
    for (let i = 1; i < rawHeaders.length; i += 2) text += `\u0000${rawHeaders[i] ?? ""}`;
    // Which providers may go to this host matters only once something matched: most requests
    // carry no needle at all and skip the host lookup (and its await).
    if (m.find(text, _noneAllowed) === null) return null;
    const found = m.find(text, await this._allowedAt(url, m));
    return found === null ? null : { ...found.needle, where: found.index < href.length ? "url" : "header" };
  }

  async body(url: URL): Promise<BodyScan> {
    const m = await this._matcher();
    return new BodyScan(m, await this._allowedAt(url, m));
  }

  placeholder(provider: string): Promise<string | undefined> {
    // One settled answer per provider, once read: asked for every injected request.
    const known = this.placeholderOf.get(provider);
    if (known !== undefined) return known;
    // Placeholders are fixed for a run (derived from its token): asked for once.
    const pending = (this.placeholders ??= (this.options.placeholders ?? (async (): Promise<Record<string, string>> => ({})))());
    // A failed read (the registry) is asked again next time, not kept.
    pending.catch(() => void (this.placeholders === pending && (this.placeholders = undefined)));
    return pending.then((all) => {
      const value = Object.hasOwn(all, provider) ? all[provider] : undefined;
      if (this.placeholderOf.size < MAX_PLACEHOLDERS) this.placeholderOf.set(provider, Promise.resolve(value));
      return value;
    });
  }

  reason(hit: TripwireHit, host: string): string {
    const what = hit.kind === "placeholder" ? `this run's ${hit.provider} placeholder` : `a stored ${hit.provider} credential`;
    return `blocked: the request carries ${what} (in its ${hit.where}) to ${host}, a host ${hit.provider} does not declare; recorded as an exfiltration attempt`;
  }

  report(hit: TripwireHit, host: string, method: string): void {
    try {
      this.options.onEvent?.({ action: "egress.exfiltration", provider: hit.provider, host, method, status: 403, outcome: "denied" });
    } catch {
      // The sink reports its own failures; the request is refused either way.
    }
  }

  close(): void {
    this.unwatch?.();
  }

  /**
   * The needles now: kept until the store reports a change (or for a second without a feed);
   * while the store is unreachable, the last ones read, for as long as the injector may serve
   * last-known credentials (last-known.ts).
   */
  private async _matcher(): Promise<Matcher> {
    if (this.watch === "no") await this._startWatching();
    const fresh = this._fresh();
    if (fresh !== null) return fresh;
    const stale = this.lastKnown.duringOutage(NEEDLES);
    if (stale !== undefined) return stale.value;
    this.building ??= _readNeedles(this.core, this.options.placeholders ?? (async () => ({}))).then(({ owners, baseHosts }) => {
      this.building = null;
      this.builtAt = Date.now();
      this.current = new Matcher(owners, baseHosts);
      this.lastKnown.remember(NEEDLES, this.current);
      return this.current;
    }, (error: unknown) => {
      this.building = null;
      const kept = this.lastKnown.afterFailure(NEEDLES, error);
      return kept === undefined ? Promise.reject(error) : kept.value;
    });
    return this.building;
  }

  /** The current needles when still good, without an await (every proxied request asks). */
  private _fresh(): Matcher | null {
    if (this.current === null || (this.watch !== "yes" && Date.now() - this.builtAt >= REREAD_MS)) return null;
    this.lastKnown.confirm(NEEDLES);
    return this.current;
  }

  private async _startWatching(): Promise<void> {
    const store = await this.core.store();
    if (store.watchChanges === undefined || this.watch !== "no") return;
    this.watch = "yes";
    this.unwatch = store.watchChanges(() => void (this.current = null), () => ((this.watch = "lost"), (this.current = null)));
  }

  /** Which providers may send their values to this URL's host and port. */
  private async _allowedAt(url: URL, m: Matcher): Promise<(provider: string) => boolean> {
    const byName = await (this.plugins ??= this.core.registry.list().then((list) => new Map(list.plugins.map((p) => [p.name, p]))));
    const host = normaliseHost(url.hostname);
    const port = Number(url.port || (url.protocol === "https:" ? 443 : 80));
    return (provider) => {
      const key = `${provider}\u0000${host}:${port}`;
      let yes = this.declares.get(key);
      if (yes === undefined) {
        const plugin = byName.get(provider);
        yes = plugin !== undefined && (hostMatchesAnyRule(plugin, host, port) || _oauthHosts(plugin).has(host));
        if (this.declares.size > 4096) this.declares.clear();
        this.declares.set(key, yes);
      }
      return yes || m.baseHosts.get(provider)?.has(host) === true;
    };
  }
}


const _noneAllowed = (): boolean => false;

/** Every secret value of every connection, and the run's placeholders, in all their forms. */
async function _readNeedles(core: ServiceCore, placeholders: () => Promise<Record<string, string>>): Promise<{ owners: Map<string, Needle>; baseHosts: Map<string, Set<string>> }> {
  const owners = new Map<string, Needle>();
  const baseHosts = new Map<string, Set<string>>();
  const add = (value: string | undefined, needle: Needle): void => {
    if (value === undefined) return;
    for (const form of secretForms(value)) if (!owners.has(form)) owners.set(form, needle);
  };
  for (const [provider, value] of Object.entries(await placeholders())) add(value, { provider, kind: "placeholder" });
  const vault = await core.vault();
  const plugins = new Map((await core.registry.list()).plugins.map((p) => [p.name, p]));
  for (const provider of await vault.providerNames()) {
    for (const name of await vault.connectionNames(provider)) {
      // A damaged record is not readable here either; doctor reports it, the run goes on.
      const found = await vault.read(provider, name).catch(() => null);
      for (const field of SECRET_FIELDS) add(found?.secrets[field], { provider, kind: "secret" });
      for (const part of _renderedSecrets(plugins.get(provider), found?.secrets)) add(part, { provider, kind: "secret" });
      const base = _hostOf(found?.meta.baseUrl);
      if (base !== null) baseHosts.set(provider, (baseHosts.get(provider) ?? new Set()).add(base));
    }
  }
  return { owners, baseHosts };
}

/**
 * The secrets the provider's rules put on the wire, as the scrubber finds them (scrub.ts): so
 * the half of a pair entered as one value (Trello's token of `KEY:TOKEN`) trips alone too. Only
 * values holding no other needle (`Bearer k` holds `k`): every needle costs each scan a little.
 */
function _renderedSecrets(plugin: ProviderPlugin | undefined, secrets: CredentialValues | undefined): string[] {
  if (plugin === undefined || secrets === undefined || plugin.authType === "aws_sigv4" || plugin.sign !== undefined) return [];
  const out: string[] = [];
  for (const rule of plugin.inject) {
    try {
      const { headers, query, path } = renderInjection(rule, secrets);
      out.push(...decisionSecrets({ provider: plugin.name, connection: "", headers, query, ...(path === undefined ? {} : { path }) }));
    } catch {
      // A rule this record cannot fill injects nothing: nothing of it to look for.
    }
  }
  const stored = SECRET_FIELDS.map((field) => secrets[field]).filter((v): v is string => v !== undefined && v.length >= MIN_SECRET_LENGTH);
  const all = [...stored, ...out];
  return [...new Set(out)].filter((value) => !all.some((other) => other !== value && value.includes(other)));
}

const oauthHostCache = new WeakMap<ProviderPlugin, Set<string>>();

/** The hosts of a plugin's OAuth endpoints and default base URL: its own, though no injection rule names them. */
function _oauthHosts(plugin: ProviderPlugin): Set<string> {
  let hosts = oauthHostCache.get(plugin);
  if (hosts !== undefined) return hosts;
  hosts = new Set();
  const o = plugin.oauth;
  const base = (plugin.baseUrl ?? "").replace(/\/+$/, "");
  for (const raw of o === undefined ? [] : [o.authorizationUrl, o.tokenUrl, o.revocationUrl, o.deviceAuthorizationUrl, o.registrationUrl, o.issuer]) {
    const host = _hostOf(raw?.replaceAll("{base_url}", base));
    if (host !== null) hosts.add(host);
  }
  const baseHost = _hostOf(plugin.baseUrl);
  if (baseHost !== null) hosts.add(baseHost);
  oauthHostCache.set(plugin, hosts);
  return hosts;
}

/** The normalised host of a URL, or null (absent, or not a URL). */
function _hostOf(raw: string | undefined): string | null {
  if (raw === undefined || raw === "") return null;
  try {
    return normaliseHost(new URL(raw).hostname);
  } catch {
    return null;
  }
}
