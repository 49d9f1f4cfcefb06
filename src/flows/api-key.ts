/**
 * API-key login: the key comes from stdin when stdin is not a TTY, a hidden prompt at the
 * terminal when no browser is at hand, otherwise a fresh local form
 * (src/server/api-key-form.ts) on 127.0.0.1 behind a one-time URL. Never argv.
 */
import { AuthsomeError } from "../core/errors.ts";
import type { ProviderPlugin } from "../core/plugin.ts";
import { compileKeyPattern, loadRegexEngine } from "../core/rule-regex.ts";
import { collectSecret } from "./secret-input.ts";
import type { FlowContext, FlowResult } from "./types.ts";

// The pattern is the plugin's: it runs on RE2 (linear time), never on JavaScript's RegExp. This
// module is imported only for an API-key login or a key given to the API, so loading the
// engine here adds nothing to a CLI start.
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

/** Runs the API-key flow. */
export async function runApiKeyFlow(context: FlowContext): Promise<FlowResult> {
  const { plugin } = context;
  const key = await collectSecret(context, {
    label: "API key",
    validate: (value) => checkApiKey(plugin, value),
    ...(plugin.apiKey?.keyUrl === undefined ? {} : { keyUrl: plugin.apiKey.keyUrl }),
  });
  return { secrets: { api_key: key } };
}
