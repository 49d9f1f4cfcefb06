/**
 * Host and authority handling for the proxy: one normal form for hosts (so `API.Example.TEST.`
 * and `api.example.test` are the same host everywhere: rules, leaf cache, resolve overrides),
 * strict parsing of CONNECT targets and absolute-URL authorities.
 */
import { isIP } from "node:net";
import { isValidHost, normalizeHost as coreNormalizeHost, parsePort } from "../core/host.ts";

export { isValidHost, parsePort };

const WIRE_HOST = /^[\x21-\x7e]+$/;

/** A parsed, normalised `host:port`. */
export interface HostPort {
  /** Normalised host: see {@link normalizeHost}. */
  host: string;
  port: number;
}

/** The core host normal form (src/core/host.ts): lower case, one trailing dot and IPv6 brackets removed. */
export function normalizeHost(host: string): string {
  return coreNormalizeHost(host);
}

/**
 * Parses a CONNECT request target, `host:port` or `[v6]:port` (RFC 9110 section 9.3.6: the port
 * is required), into a normalised host and port; null when malformed.
 */
export function parseAuthority(authority: string): HostPort | null {
  const colon = authority.lastIndexOf(":");
  if (colon <= 0) return null;
  const rawHost = authority.slice(0, colon);
  // An unbracketed IPv6 address would be ambiguous: the port is whatever follows the last colon.
  if (rawHost.includes(":") && !rawHost.startsWith("[")) return null;
  // On the wire a host is printable ASCII: a raw non-ASCII or spaced name is refused, not repaired.
  if (!WIRE_HOST.test(rawHost)) return null;
  const host = normalizeHost(rawHost);
  const port = parsePort(authority.slice(colon + 1));
  if (port === null || !isValidHost(host)) return null;
  return { host, port };
}

/**
 * Parses the authority of an absolute URL (`host`, `host:port`, `[v6]`, `[v6]:port`, any
 * `userinfo@` dropped), using `defaultPort` when none is given; null when malformed.
 */
export function parseUrlAuthority(authority: string, defaultPort: number): HostPort | null {
  const bare = authority.slice(authority.lastIndexOf("@") + 1);
  const close = bare.lastIndexOf("]");
  const colon = bare.lastIndexOf(":");
  if (colon < 0 || colon < close) {
    const host = normalizeHost(bare);
    return WIRE_HOST.test(bare) && isValidHost(host) ? { host, port: defaultPort } : null;
  }
  if (colon === bare.length - 1) return parseAuthority(bare + String(defaultPort));
  return parseAuthority(bare);
}

/** `host` or `host:port` (IPv6 in brackets), leaving out the scheme's default port: a Host header. */
export function formatAuthority(host: string, port: number, defaultPort: number): string {
  const name = isIP(host) === 6 ? `[${host}]` : host;
  return port === defaultPort ? name : `${name}:${port}`;
}

/** The override table's format lives with its reader (src/runtime/upstream.ts). */
export { parseResolveSpec, resolveKey } from "../runtime/upstream.ts";
