/**
 * API-key login: the key comes from stdin when stdin is not a TTY, otherwise from a fresh
 * local form (src/server/api-key-form.ts) on 127.0.0.1 behind a one-time URL. Never argv.
 */
import { AuthsomeError } from "../core/errors.ts";
import type { ProviderPlugin } from "../core/plugin.ts";
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
  const { plugin, interaction } = context;
  const piped = await interaction.readPipedSecret();
  let key: string;
  if (piped !== undefined) {
    key = piped.trim();
    const problem = checkApiKey(plugin, key);
    if (problem !== null) throw new AuthsomeError("usage", `key read from stdin refused: ${problem}`);
  } else {
    const { collectSecretWithForm } = await import("../server/api-key-form.ts");
    key = await collectSecretWithForm({
      plugin,
      connection: context.connection,
      interaction,
      timeoutMs: context.timeoutMs,
      validate: (value) => checkApiKey(plugin, value),
    });
  }
  return { secrets: { api_key: key } };
}
