/**
 * API-key login: the key comes from stdin when stdin is not a TTY, a hidden prompt at the
 * terminal when no browser is at hand, otherwise the registered local form (src/server/
 * api-key-form.ts) on 127.0.0.1 behind a one-time URL. Never argv. The key check is core's
 * (src/core/api-key.ts), shared with keys given to the API directly.
 */
import { checkApiKey } from "../core/api-key.ts";
import { collectSecret } from "./secret-input.ts";
import type { FlowContext, FlowResult } from "./types.ts";

export { checkApiKey };

/** Runs the API-key flow. */
export async function runApiKeyFlow(context: FlowContext): Promise<FlowResult> {
  const { plugin } = context;
  // SigV4 providers take three fields (key id, secret, optional session token), not one key.
  if (plugin.authType === "aws_sigv4") return (await import("./aws-keys.ts")).runAwsKeysFlow(context);
  const key = await collectSecret(context, {
    label: "API key",
    validate: (value) => checkApiKey(plugin, value),
    ...(plugin.apiKey?.keyUrl === undefined ? {} : { keyUrl: plugin.apiKey.keyUrl }),
  });
  return { secrets: { api_key: key } };
}
