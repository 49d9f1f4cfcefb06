/**
 * One row of the provider table in docs/providers.md, computed from a plugin: the test keeps the
 * docs equal to the registry with it, and its failure message prints the rows to paste.
 */
import type { InjectionRule, ProviderPlugin } from "../../src/core/plugin.ts";

/** Where a rule puts the credential, as the table shows it. */
function sentAs(plugin: ProviderPlugin, rule: InjectionRule): string {
  if (plugin.authType === "aws_sigv4") return "SigV4 signature";
  if (rule.in === "query") return `?${rule.name ?? ""}=`;
  if (rule.in === "path") return `/${rule.name ?? ""}{token}/`;
  if (rule.in === "basic") return `Basic ${rule.format ?? "{username}:{password}"}`;
  return `${rule.name ?? "Authorization"}: ${rule.format ?? "Bearer {token}"}`;
}

const code = (text: string): string => `\`${text}\``;
const unique = (items: string[]): string[] => [...new Set(items)];

/** `| name | display name | auth type | hosts | sent as | env |` for one plugin. */
export function providerRow(plugin: ProviderPlugin): string {
  const hosts = unique(plugin.inject.map((r) => `${r.host}${r.pathPrefix ?? ""}`)).map(code).join(" ");
  const sent = unique(plugin.inject.map((r) => sentAs(plugin, r))).map(code).join(" ");
  const env = Object.keys(plugin.env ?? {}).map(code).join(" ");
  return `| ${code(plugin.name)} | ${plugin.displayName ?? plugin.name} | ${plugin.authType} | ${hosts} | ${sent} | ${env} |`;
}
