/**
 * Tripwires (issue 10): a request that carries provider P's placeholder (this run's, see
 * placeholder.ts) or one of P's stored secrets, to a host P does not declare, is an
 * exfiltration attempt: the egress pipeline (egress.ts) answers it 403 and audits it as
 * `egress.exfiltration`. Sent to P's own hosts, a placeholder is simply replaced by injection.
 *
 * Looked for in the agent's URL and header values (before injection, so what authsome adds is
 * never mistaken for the agent's), and in request bodies as they stream ({@link BodyScan}: only
 * a possible prefix is held back, nothing is buffered whole) up to {@link MAX_BODY_SCAN} bytes.
 * Every form the response scrubber knows (raw, URL-encoded, base64 at any alignment so Basic
 * credentials too, hex, JSON-escaped) trips. Secrets are read from the vault once and again
 * whenever the store reports a change (or after a second, for stores that cannot report).
 */
import { Buffer } from "node:buffer";
import type { AuditEvent } from "./audit.ts";
import type { ProviderPlugin } from "./plugin.ts";
import { type CredentialValues, hostMatchesAnyRule, normaliseHost, renderInjection } from "./rules.ts";
import { decisionSecrets, MIN_SECRET_LENGTH, secretForms } from "./scrub.ts";
import type { ServiceCore } from "./service.ts";
import { createLastKnown } from "./last-known.ts";

/** Body bytes scanned per request; beyond them a body passes unscanned (a stated limit). */
export const MAX_BODY_SCAN = 1024 * 1024;
/** Without a change feed from the store, secrets are re-read at most this often. */
const REREAD_MS = 1000;
const SECRET_FIELDS = ["api_key", "access_token", "refresh_token", "id_token", "password", "secret_access_key", "session_token"] as const;

/** What tripped: whose value, which kind, and where in the request. */
export interface TripwireHit {
  provider: string;
  kind: "placeholder" | "secret";
  where: "url" | "header" | "body";
}

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

interface Needle {
  provider: string;
  kind: TripwireHit["kind"];
}

/** The one key of the tripwire's last-known value: all needles are read together. */
const NEEDLES = "needles";

/** The needles of one moment: every form of every value, one regex over them. */
class Matcher {
  readonly regex: RegExp | null;
  readonly longest: number;
  private readonly owners: Map<string, Needle>;
  private readonly forms: readonly string[];
  private readonly firsts: ReadonlySet<number>;
  /** Hosts of a connection's `--base-url` (a self-hosted instance): its provider's too. */
  readonly baseHosts: ReadonlyMap<string, ReadonlySet<string>>;

  constructor(owners: Map<string, Needle>, baseHosts: ReadonlyMap<string, ReadonlySet<string>>) {
    this.owners = owners;
    this.baseHosts = baseHosts;
    const forms = [...owners.keys()].sort((a, b) => b.length - a.length);
    this.longest = forms[0]?.length ?? 0;
    this.forms = forms;
    this.firsts = new Set(forms.map((f) => f.charCodeAt(0)));
    this.regex = forms.length === 0 ? null : new RegExp(forms.map((f) => f.replace(/[\\^$.*+?()[\]{}|/-]/g, "\\$&")).join("|"), "g");
  }

  /**
   * Where the held-back end of `text` starts: the first of its last (longest - 1) positions
   * whose rest is a proper prefix of a needle, else `text.length` (nothing to hold). Holding
   * only a real prefix lets a streamed body (a gRPC or HTTP/2 ping-pong) flow message by
   * message instead of waiting for bytes that would push an innocent tail out.
   */
  heldFrom(text: string): number {
    for (let p = Math.max(0, text.length - this.longest + 1); p < text.length; p += 1) {
      if (!this.firsts.has(text.charCodeAt(p))) continue;
      const rest = text.slice(p);
      if (this.forms.some((form) => form.length > rest.length && form.startsWith(rest))) return p;
    }
    return text.length;
  }

  /** The first needle in `text` (latin1) whose provider is not allowed here; `end` stops matches starting later. */
  find(text: string, allowed: (provider: string) => boolean, end = text.length): { needle: Needle; index: number } | null {
    const regex = this.regex;
    if (regex === null) return null;
    regex.lastIndex = 0;
    for (let match = regex.exec(text); match !== null && match.index < end; match = regex.exec(text)) {
      const needle = this.owners.get(match[0]);
      if (needle !== undefined && !allowed(needle.provider)) return { needle, index: match.index };
    }
    return null;
  }
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

  constructor(core: ServiceCore, options: TripwireOptions) {
    this.core = core;
    this.options = options;
  }

  async check(url: URL, rawHeaders: readonly string[]): Promise<TripwireHit | null> {
    const m = await this._matcher();
    if (m.regex === null) return null;
    // One scan over the URL and every header value, joined by NUL (no header value holds one).
    const href = url.href;
    let text = href;
    for (let i = 1; i < rawHeaders.length; i += 2) text += `\u0000${rawHeaders[i] ?? ""}`;
    const found = m.find(text, await this._allowedAt(url, m));
    return found === null ? null : { ...found.needle, where: found.index < href.length ? "url" : "header" };
  }

  async body(url: URL): Promise<BodyScan> {
    const m = await this._matcher();
    return new BodyScan(m, await this._allowedAt(url, m));
  }

  placeholder(provider: string): Promise<string | undefined> {
    // Placeholders are fixed for a run (derived from its token): asked for once.
    const pending = (this.placeholders ??= (this.options.placeholders ?? (async (): Promise<Record<string, string>> => ({})))());
    // A failed read (the registry) is asked again next time, not kept.
    pending.catch(() => void (this.placeholders === pending && (this.placeholders = undefined)));
    return pending.then((all) => (Object.hasOwn(all, provider) ? all[provider] : undefined));
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
    if (this.current !== null && (this.watch === "yes" || Date.now() - this.builtAt < REREAD_MS)) {
      this.lastKnown.confirm(NEEDLES);
      return this.current;
    }
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

/**
 * Scans one request body as it streams. {@link push} returns the bytes that may be sent now
 * (a possible start of a needle at the end is held back), or null once a needle tripped.
 */
export class BodyScan {
  /** What tripped, once {@link push} or {@link end} returned null. */
  hit: TripwireHit | null = null;
  private tail: Buffer | null = null;
  /** Flushed bytes still in view (the last longest - 1 of them): they may begin a needle. */
  private sent: Buffer | null = null;
  private scanned = 0;
  private readonly matcher: Matcher;
  private readonly allowed: (provider: string) => boolean;

  constructor(matcher: Matcher, allowed: (provider: string) => boolean) {
    this.matcher = matcher;
    this.allowed = allowed;
  }

  /** True when nothing is looked for (no needle): callers may skip the scan entirely. */
  get idle(): boolean {
    return this.matcher.regex === null;
  }

  /** True while bytes are held back (the end of the last piece could begin a needle). */
  get holding(): boolean {
    return this.tail !== null;
  }

  push(chunk: Buffer): Buffer | null {
    if (this.hit !== null) return null;
    if (this.scanned >= MAX_BODY_SCAN || this.matcher.regex === null) return chunk;
    const held = this.tail === null ? chunk : Buffer.concat([this.tail, chunk]);
    // Bytes flushed already (see flush) are looked at again, never sent again.
    const sent = this.sent;
    const data = sent === null ? held : Buffer.concat([sent, held]);
    this.tail = null;
    this.sent = null;
    const text = data.toString("latin1");
    const found = this.matcher.find(text, this.allowed);
    if (found !== null) return this._trip(found.needle);
    this.scanned += chunk.length;
    // A needle could start in the last (longest - 1) bytes and end in the next chunk.
    const from = sent?.length ?? 0;
    const keep = this.scanned >= MAX_BODY_SCAN ? data.length : this.matcher.heldFrom(text);
    if (keep < from) this.sent = Buffer.from(data.subarray(keep, from));
    if (Math.max(keep, from) < data.length) this.tail = Buffer.from(data.subarray(Math.max(keep, from)));
    return data.subarray(from, Math.max(keep, from));
  }

  /**
   * The held-back bytes, to send now because the sender went quiet (an HTTP/2 or gRPC stream
   * waiting for an answer would otherwise wait forever). They stay in view: if the next bytes
   * complete a needle they begin, it still trips, so a whole value never leaves; only a part
   * of one can (as a value cut in two by the agent itself always could).
   */
  flush(): Buffer {
    const tail = this.tail;
    if (tail === null || this.hit !== null) return Buffer.alloc(0);
    this.tail = null;
    const seen = this.sent === null ? tail : Buffer.concat([this.sent, tail]);
    this.sent = seen.length < this.matcher.longest ? seen : Buffer.from(seen.subarray(seen.length - this.matcher.longest + 1));
    return tail;
  }

  /** The held-back bytes at the body's end (already scanned), or null if they tripped. */
  end(): Buffer | null {
    if (this.hit !== null) return null;
    const rest = this.tail ?? Buffer.alloc(0);
    this.tail = null;
    return rest;
  }

  private _trip(needle: Needle): null {
    this.hit = { ...needle, where: "body" };
    return null;
  }
}

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
