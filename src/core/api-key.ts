/**
 * Checking an API key against its plugin's pattern, for the API-key flow and for a key handed
 * to the API or library directly (`login(provider, { apiKey })`). The pattern is the plugin's:
 * it runs on RE2 (linear time), never on JavaScript's RegExp. This module is imported only when
 * a key is checked, so loading the engine here adds nothing to a CLI start.
 */
import { AuthsomeError } from "./errors.ts";
import type { ProviderPlugin } from "./plugin.ts";
import { compileKeyPattern, loadRegexEngine } from "./rule-regex.ts";

await loadRegexEngine();

/** Checks a key against the plugin's pattern; returns an error message for the user or null. */
export function checkApiKey(plugin: ProviderPlugin, key: string): string | null {
  if (key === "") return "the key is empty";
  if (/\s/.test(key)) return "the key contains white space";
  const pattern = plugin.apiKey?.pattern;
  if (pattern !== undefined && !_keyPattern(plugin.name, pattern).test(key)) {
    const hint = plugin.apiKey?.hint ?? `expected to match ${pattern}`;
    return `that does not look like a ${plugin.displayName ?? plugin.name} key: ${hint}`;
  }
  return null;
}

function _keyPattern(provider: string, pattern: string): { test(key: string): boolean } {
  try {
    return compileKeyPattern(pattern);
  } catch (error) {
    const problem = error instanceof Error ? error.message : String(error);
    throw new AuthsomeError("plugin_invalid", `plugin ${provider}: field "apiKey.pattern": ${problem}`, { cause: error });
  }
}
