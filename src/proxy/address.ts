/**
 * Host and authority handling for the proxy: one normal form for hosts (so `API.Example.TEST.`
 * and `api.example.test` are the same host everywhere: rules, leaf cache, resolve overrides),
 * strict parsing of CONNECT targets, and the `AUTHSOME_UPSTREAM_RESOLVE` format.
 */
import { isIP } from "node:net";
import { AuthsomeError } from "../core/errors.ts";

/** A parsed, normalised `host:port`. */
export interface HostPort {
  /** Normalised host: see {@link normalizeHost}. */
  host: string;
  port: number;
}

/** Labels of letters, digits, `-` and `_` (seen in real service names) separated by dots. */
const DNS_NAME = /^[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?)*$/;
const PORT = /^[0-9]{1,5}$/;

/** Lower case, without one trailing dot and without IPv6 brackets. */
export function normalizeHost(host: string): string {
  let out = host.toLowerCase();
  if (out.startsWith("[") && out.endsWith("]")) out = out.slice(1, -1);
  if (out.endsWith(".")) out = out.slice(0, -1);
  return out;
}

/** True for a normalised DNS name or IP address: nothing else may reach a header or a log line. */
export function isValidHost(host: string): boolean {
  return host.length > 0 && host.length <= 253 && (DNS_NAME.test(host) || isIP(host) !== 0);
}

/** Parses a port number (1-65535), or returns null. */
export function parsePort(text: string): number | null {
  if (!PORT.test(text)) return null;
  const port = Number(text);
  return port >= 1 && port <= 65535 ? port : null;
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
    return isValidHost(host) ? { host, port: defaultPort } : null;
  }
  if (colon === bare.length - 1) return parseAuthority(bare + String(defaultPort));
  return parseAuthority(bare);
}

/** `host` or `host:port` (IPv6 in brackets), leaving out the scheme's default port: a Host header. */
export function formatAuthority(host: string, port: number, defaultPort: number): string {
  const name = isIP(host) === 6 ? `[${host}]` : host;
  return port === defaultPort ? name : `${name}:${port}`;
}

/** The key of a resolve override: normalised `host:port`. */
export function resolveKey(host: string, port: number): string {
  return `${host}:${port}`;
}

/**
 * Parses curl's `--resolve` form as `AUTHSOME_UPSTREAM_RESOLVE` takes it:
 * `host:port:address[,host:port:address...]`, the address an IPv4 or IPv6 literal (brackets
 * optional). Returns normalised `host:port` -> address; throws a usage error on a bad entry.
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
  if (port === null || !isValidHost(host) || isIP(address) === 0) return null;
  return { host, port, address };
}
