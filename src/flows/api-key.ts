/**
 * API-key login: the key comes from stdin when stdin is not a TTY, a hidden prompt at the
 * terminal when no browser is at hand, otherwise a fresh local form
 * (src/server/api-key-form.ts) on 127.0.0.1 behind a one-time URL. Never argv.
 */
import type { ProviderPlugin } from "../core/plugin.ts";
import { collectSecret } from "./secret-input.ts";
import type { FlowContext, FlowResult } from "./types.ts";

/** Checks a key against the plugin's pattern; returns an error message for the user or null. */
export function checkApiKey(plugin: ProviderPlugin, key: string): string | null {
  if (key === "") return "the key is empty";
  if (/\s/.test(key)) return "the key contains white space";
  const pattern = plugin.apiKey?.pattern;
  if (pattern !== undefined && !new RegExp(pattern).test(key)) {
    const hint = plugin.apiKey?.hint ?? `expected to match ${pattern}`;
    return `that does not look like a ${plugin.displayName ?? plugin.name} key: ${hint}`;
  }
  return null;
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
