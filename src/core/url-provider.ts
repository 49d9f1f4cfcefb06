/**
 * A provider named by a URL instead of a name (`auth.getAccessToken("https://mcp.example.com/mcp")`):
 * the provider whose OAuth `resource` (RFC 8707, as MCP servers stored by `authsome login <url>`
 * have) covers the URL, else the one whose injection rules match it. Decided from the plugins'
 * data alone, so a URL means the same provider here as for the proxy.
 */
import { AuthsomeError } from "./errors.ts";
import type { ProviderPlugin } from "./plugin.ts";
import type { Registry } from "./registry.ts";
import { ruleMatches } from "./rules.ts";

/** True when `text` is an http(s) URL rather than a provider name (names never hold `://`). */
export function isProviderUrl(text: string): boolean {
  return /^https?:\/\//i.test(text);
}

function _resourceCovers(plugin: ProviderPlugin, url: URL): boolean {
  const resources = plugin.oauth?.resource;
  for (const resource of resources === undefined ? [] : typeof resources === "string" ? [resources] : resources) {
    if (resource.includes("{")) continue;
    const named = new URL(resource);
    const prefix = named.pathname.replace(/\/+$/, "");
    if (named.origin === url.origin && (url.pathname === prefix || url.pathname.startsWith(`${prefix}/`) || prefix === "")) return true;
  }
  return false;
}

/** The provider a URL names; provider_not_found (with the MCP login command) when none does. */
export async function providerForUrl(registry: Registry, text: string): Promise<string> {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new AuthsomeError("usage", `"${text.slice(0, 80)}" is not a URL`);
  }
  const { plugins } = await registry.list();
  const found = plugins.find((p) => _resourceCovers(p, url)) ?? plugins.find((p) => p.inject.some((rule) => ruleMatches(rule, url)));
  if (found !== undefined) return found.name;
  throw new AuthsomeError("provider_not_found", `no provider is logged in for ${url.origin}${url.pathname}`, { hint: `for an MCP server: authsome login ${url.href}` });
}
