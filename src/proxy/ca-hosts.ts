/**
 * The hosts a CA may sign for (issue 14 part 6): the DNS subtrees and IP addresses of the
 * providers' injection rules, written into the CA as X.509 nameConstraints (RFC 5280 section
 * 4.2.1.10), so a TLS client refuses any leaf outside them even if the CA's key is stolen, and
 * checked by the CA itself before it signs.
 *
 * An exact rule `api.acme.example` gives the subtree `api.acme.example` (that name and the names
 * under it: a subtree cannot be narrower); `*.acme.example` gives `acme.example`; a `regex:` rule
 * gives the literal labels it ends with when they start at a label boundary
 * (`(eu|us)\.cdn\.acme\.example` gives `cdn.acme.example`), else nothing, and its hosts are then
 * not intercepted. IP rules give that one address; without any, every IP address is excluded.
 */
import { isIP } from "node:net";
import { isPublicSuffix } from "../core/rule-breadth.ts";
import { parseHostRule } from "../core/rules.ts";
import type { ProviderPlugin } from "../core/plugin.ts";
import * as der from "./der.ts";
import { ipBytes } from "./x509.ts";

/** What a CA may sign for: DNS subtrees and single IP addresses, each sorted. */
export interface PermittedNames {
  dns: string[];
  ips: string[];
}

/** The labels a regex ends with, when literal and at a label boundary; undefined otherwise. */
export function regexSuffix(pattern: string): string | undefined {
  const match = /(^\^?|\\\.\)?[?*+]?|\\\.)((?:[a-z0-9-]+\\\.)+[a-z0-9-]+)\$?$/i.exec(pattern);
  const suffix = match?.[2]?.replaceAll("\\.", ".").toLowerCase();
  return suffix === undefined || isPublicSuffix(suffix) ? undefined : suffix;
}

function _plainHost(raw: string): string | undefined {
  try {
    return parseHostRule(raw).host;
  } catch {
    return undefined; // refused when the plugin loaded; nothing to permit
  }
}

/** The names the providers' rules broker, with subtrees inside others dropped. */
export function permittedNames(plugins: readonly ProviderPlugin[]): PermittedNames {
  const dns = new Set<string>();
  const ips = new Set<string>();
  for (const plugin of plugins) {
    for (const rule of plugin.inject) {
      // Regex rules were compiled and checked when the plugin loaded; only their text is read here.
      const name = rule.host.startsWith("regex:") ? regexSuffix(rule.host.slice("regex:".length)) : _plainHost(rule.host);
      if (name === undefined) continue;
      (isIP(name) === 0 ? dns : ips).add(name);
    }
  }
  const covered = (name: string) => [...dns].some((other) => other !== name && name.endsWith(`.${other}`));
  return { dns: [...dns].filter((name) => !covered(name)).sort(), ips: [...ips].sort() };
}

/** True when `host` (normalised) is inside `names`, as a TLS client reads the constraints. */
export function isPermitted(host: string, names: PermittedNames): boolean {
  if (isIP(host) !== 0) return names.ips.includes(host);
  return names.dns.some((base) => host === base || host.endsWith(`.${base}`));
}

/** A stable text of `names`, stored with the CA: a different one means the CA is remade. */
export function namesKey(names: PermittedNames): string {
  return JSON.stringify([names.dns, names.ips]);
}

const subtree = (name: der.Bytes): der.Bytes => der.sequence(name);
const ALL_V4 = Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0);
const ALL_V6 = new Uint8Array(32);

/**
 * The nameConstraints extension (critical, as RFC 5280 requires): permitted dNSName subtrees,
 * and permitted single IP addresses or, without any, every IPv4 and IPv6 address excluded (a
 * permitted list of DNS names alone leaves IP names unconstrained).
 */
export function nameConstraints(names: PermittedNames): der.Bytes {
  const encoder = new TextEncoder();
  // A GeneralSubtrees list cannot be empty: with no DNS name brokered, `invalid` (RFC 2606) permits none.
  const dns = (names.dns.length === 0 ? ["invalid"] : names.dns).map((name) => subtree(der.implicit(2, encoder.encode(name))));
  const ips = names.ips.map((ip) => {
    const bytes = ipBytes(ip);
    return subtree(der.implicit(7, der.concat([bytes, new Uint8Array(bytes.length).fill(0xff)])));
  });
  const permitted = der.tlv(0xa0, der.concat([...dns, ...ips]));
  const excluded = ips.length > 0 ? [] : [der.tlv(0xa1, der.concat([subtree(der.implicit(7, ALL_V4)), subtree(der.implicit(7, ALL_V6))]))];
  const value = der.sequence(permitted, ...excluded);
  return der.sequence(der.oid("2.5.29.30"), der.boolean(true), der.octetString(value));
}
