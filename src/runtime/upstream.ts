/**
 * Upstream overrides for tests and development, read in one place for the proxy and the
 * in-process interceptor alike: `AUTHSOME_UPSTREAM_RESOLVE` (curl's `--resolve` form,
 * `host:port:address[,...]`, matched on the exact `host:port` as curl does: an entry for
 * `host:1` never applies to `host:2`) and `AUTHSOME_UPSTREAM_CA` (a PEM file trusted for
 * upstream TLS in addition to the system roots).
 *
 * Applying them to `fetch` differs per runtime: Node gets an undici dispatcher whose connector
 * swaps the address (SNI and certificate checks keep the name); Deno's fetch has no resolver
 * hook, so overridden `host:port`s go through a `Deno.HttpClient` whose SOCKS5 transport points
 * at a loopback relay that connects to the override's address (see {@link UpstreamFetch}).
 */
import { readFile } from "node:fs/promises";
import { AuthsomeError } from "../core/errors.ts";
import { isIpAddress, isValidHost, normalizeHost, parsePort } from "../core/host.ts";
import { getEnv } from "./index.ts";

/** Upstream overrides (`AUTHSOME_UPSTREAM_RESOLVE`, `AUTHSOME_UPSTREAM_CA`). */
export interface UpstreamOverrides {
  /** Normalised `host:port` -> address. */
  resolve?: Map<string, string>;
  extraCaPem?: string;
}

/** The key of a resolve override: normalised `host:port`. */
export function resolveKey(host: string, port: number): string {
  return `${host}:${port}`;
}

/** The address `host:port` is overridden to, or undefined: exact host and port only. */
export function resolveOverride(resolve: ReadonlyMap<string, string> | undefined, host: string, port: number): string | undefined {
  if (resolve === undefined || resolve.size === 0) return undefined;
  return resolve.get(resolveKey(normalizeHost(host), port));
}

/** Reads both overrides from the environment; a bad entry or an unreadable CA file is a usage error. */
export async function readUpstreamOverrides(): Promise<UpstreamOverrides> {
  const resolve = getEnv("AUTHSOME_UPSTREAM_RESOLVE");
  const caFile = getEnv("AUTHSOME_UPSTREAM_CA");
  let extraCaPem: string | undefined;
  if (caFile !== undefined) {
    try {
      extraCaPem = await readFile(caFile, "utf8");
    } catch (cause) {
      throw new AuthsomeError("usage", `AUTHSOME_UPSTREAM_CA: cannot read ${caFile}`, { cause });
    }
  }
  return { ...(resolve === undefined ? {} : { resolve: parseResolveSpec(resolve) }), ...(extraCaPem === undefined ? {} : { extraCaPem }) };
}

/**
 * Parses curl's `--resolve` form: `host:port:address[,host:port:address...]`, the address an
 * IPv4 or IPv6 literal (brackets optional). Returns normalised `host:port` -> address; throws a
 * usage error on a bad entry.
 */
export function parseResolveSpec(spec: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const raw of spec.split(",")) {
    const entry = raw.trim();
    if (entry === "") continue;
    const parsed = _parseResolveEntry(entry);
    if (parsed === null) {
      throw new AuthsomeError("usage", `AUTHSOME_UPSTREAM_RESOLVE: "${entry}" is not host:port:address`, {
        hint: "use curl's --resolve form, e.g. api.example.com:443:127.0.0.1",
      });
    }
    map.set(resolveKey(parsed.host, parsed.port), parsed.address);
  }
  return map;
}

function _parseResolveEntry(entry: string): { host: string; port: number; address: string } | null {
  let rest = entry;
  let rawHost: string;
  if (rest.startsWith("[")) {
    const close = rest.indexOf("]");
    if (close < 0) return null;
    rawHost = rest.slice(0, close + 1);
    rest = rest.slice(close + 1);
    if (!rest.startsWith(":")) return null;
    rest = rest.slice(1);
  } else {
    const colon = rest.indexOf(":");
    if (colon <= 0) return null;
    rawHost = rest.slice(0, colon);
    rest = rest.slice(colon + 1);
  }
  const colon = rest.indexOf(":");
  if (colon <= 0) return null;
  const port = parsePort(rest.slice(0, colon));
  const address = normalizeHost(rest.slice(colon + 1));
  const host = normalizeHost(rawHost);
  if (port === null || !isValidHost(host) || !isIpAddress(address)) return null;
  return { host, port, address };
}

/**
 * Extra `fetch` init members per request URL that apply the overrides (an undici dispatcher on
 * Node, a `Deno.HttpClient` on Deno), and a `close` for what they hold.
 */
export interface UpstreamFetch {
  init(url: URL): Record<string, unknown>;
  close(): void;
}

/** Starts a loopback relay for Deno's overridden hosts: returns its `socks5h://` URL. */
export type SocksRelayStarter = (resolve: ReadonlyMap<string, string>) => Promise<{ url: string; close(): void }>;

/**
 * Builds the {@link UpstreamFetch} for `overrides`. `startRelay` is needed on Deno only, and only
 * when there are resolve entries (the relay lives in src/proxy/socks.ts, above this layer).
 */
export async function upstreamFetch(overrides: UpstreamOverrides, startRelay?: SocksRelayStarter): Promise<UpstreamFetch> {
  const resolve = overrides.resolve ?? new Map<string, string>();
  if (overrides.extraCaPem === undefined && resolve.size === 0) return { init: () => ({}), close: () => undefined };
  const deno = (globalThis as { Deno?: DenoFetchApi }).Deno;
  if (deno !== undefined) return _denoFetch(deno, overrides.extraCaPem, resolve, startRelay);
  const { Agent, buildConnector } = await import("undici");
  const { rootCertificates } = await import("node:tls");
  const connector = buildConnector(overrides.extraCaPem === undefined ? {} : { ca: [...rootCertificates, overrides.extraCaPem] });
  const dispatcher = new Agent({
    connect(options, callback) {
      const port = Number(options.port) || (options.protocol === "https:" ? 443 : 80);
      const address = resolveOverride(resolve, options.hostname, port);
      if (address === undefined) return connector(options, callback);
      // Only the address changes: SNI and the certificate check keep the name.
      const servername = options.servername ?? (!isIpAddress(options.hostname) ? options.hostname : undefined);
      return connector({ ...options, hostname: address, ...(servername === undefined || servername === null ? {} : { servername }) }, callback);
    },
  });
  return { init: () => ({ dispatcher }), close: () => void dispatcher.close() };
}

interface DenoFetchApi {
  createHttpClient(options: { caCerts?: string[]; proxy?: { transport: "socks5"; url: string } }): { close(): void };
}

async function _denoFetch(deno: DenoFetchApi, extraCaPem: string | undefined, resolve: ReadonlyMap<string, string>, startRelay: SocksRelayStarter | undefined): Promise<UpstreamFetch> {
  const caCerts = extraCaPem === undefined ? {} : { caCerts: [extraCaPem] };
  const plain = extraCaPem === undefined ? null : deno.createHttpClient(caCerts);
  if (resolve.size > 0 && startRelay === undefined) throw new AuthsomeError("internal", "AUTHSOME_UPSTREAM_RESOLVE on Deno needs the SOCKS relay");
  const relay = resolve.size > 0 && startRelay !== undefined ? await startRelay(resolve) : null;
  const viaRelay = relay === null ? null : deno.createHttpClient({ ...caCerts, proxy: { transport: "socks5", url: relay.url } });
  return {
    init(url) {
      const port = Number(url.port) || (url.protocol === "https:" ? 443 : 80);
      if (viaRelay !== null && resolveOverride(resolve, url.hostname, port) !== undefined) return { client: viaRelay };
      return plain === null ? {} : { client: plain };
    },
    close() {
      plain?.close();
      viaRelay?.close();
      relay?.close();
    },
  };
}
