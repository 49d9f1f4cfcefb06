/**
 * The one normal form of a host name, used wherever hosts are compared or keyed: injection
 * rules, the proxy's CONNECT and absolute-form targets, the leaf cache, resolve overrides.
 *
 * Lower case, IPv6 brackets removed, non-ASCII names in their punycode form (as URL.hostname
 * gives them), and exactly one trailing dot removed: `api.example.com.` is the fully qualified
 * spelling of `api.example.com` and must get the same decision. Two or more trailing dots are
 * not a DNS name; removing only one leaves a name with an empty label, which matches no rule
 * and which the proxy refuses as malformed (never a quiet match).
 *
 * Also the strict parsers of authorities (CONNECT targets, absolute URLs, Host and `:authority`
 * values), shared by the proxy and the egress pipeline's check that a request names its target.
 */
/** Normalises a host: see the module comment. */
export function normalizeHost(host: string): string {
  let h = host.trim().toLowerCase();
  if (h.startsWith("[") && h.endsWith("]")) h = h.slice(1, -1);
  if (h.endsWith(".")) h = h.slice(0, -1);
  if (NON_ASCII.test(h)) {
    try {
      h = new URL(`https://${h}/`).hostname;
    } catch {
      // Left as is: it cannot equal any validated rule host, and the proxy refuses it.
    }
  }
  return h;
}

const NON_ASCII = /[^\x00-\x7f]/;

/** Labels of letters, digits, `-` and `_` (seen in real service names) separated by dots. */
const DNS_NAME = /^[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?)*$/;
const PORT = /^[0-9]{1,5}$/;

/** True for a normalised DNS name or IP address: nothing else may reach a header or a log line. */
export function isValidHost(host: string): boolean {
  return host.length > 0 && host.length <= 253 && (DNS_NAME.test(host) || isIpAddress(host));
}

const IPV4_PART = "(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";
const IPV4 = new RegExp(`^${IPV4_PART}(?:\\.${IPV4_PART}){3}$`);
const IPV6_CHARS = /^[0-9a-f:.]+$/i;

/**
 * True for an IPv4 address in dotted decimal or an IPv6 address (zone ids refused). Not
 * node:net's isIP: importing node:net loads Node's socket and stream modules, ~1.5 ms of every
 * CLI start. IPv6 is left to the WHATWG URL parser once the text holds only address characters
 * (so no userinfo, path or bracket can change what it parses).
 */
export function isIpAddress(host: string): boolean {
  if (IPV4.test(host)) return true;
  if (!host.includes(":") || !IPV6_CHARS.test(host)) return false;
  try {
    return new URL(`http://[${host}]/`).hostname !== "";
  } catch {
    return false;
  }
}

/** Parses a port number (1-65535), or returns null. */
export function parsePort(text: string): number | null {
  if (!PORT.test(text)) return null;
  const port = Number(text);
  return port >= 1 && port <= 65535 ? port : null;
}

const WIRE_HOST = /^[\x21-\x7e]+$/;

/** A parsed, normalised `host:port`. */
export interface HostPort {
  /** Normalised host: see {@link normalizeHost}. */
  host: string;
  port: number;
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
