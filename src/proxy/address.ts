/**
 * Host and authority handling for the proxy: one normal form for hosts (so `API.Example.TEST.`
 * and `api.example.test` are the same host everywhere: rules, leaf cache, resolve overrides),
 * strict parsing of CONNECT targets and absolute-URL authorities (core/host.ts, which the egress
 * pipeline uses too).
 */
import { isIP } from "node:net";
import { type HostPort, isValidHost, normalizeHost as coreNormalizeHost, parseAuthority, parsePort, parseUrlAuthority } from "../core/host.ts";

export { type HostPort, isValidHost, parseAuthority, parsePort, parseUrlAuthority };

/** The core host normal form (src/core/host.ts): lower case, one trailing dot and IPv6 brackets removed. */
export function normalizeHost(host: string): string {
  return coreNormalizeHost(host);
}

/** `host` or `host:port` (IPv6 in brackets), leaving out the scheme's default port: a Host header. */
export function formatAuthority(host: string, port: number, defaultPort: number): string {
  const name = isIP(host) === 6 ? `[${host}]` : host;
  return port === defaultPort ? name : `${name}:${port}`;
}

/** The override table's format lives with its reader (src/runtime/upstream.ts). */
export { parseResolveSpec, resolveKey } from "../runtime/upstream.ts";
