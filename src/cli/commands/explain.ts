import type { Explanation } from "../../core/explain.ts";
import { defineCommand } from "../command.ts";
import type { Output } from "../output.ts";

/** The human form: the verdict, then each provider that declares the host. */
function formatExplanation(result: Explanation, out: Output): string {
  const lines = [`${result.url}`, `  ${result.applies ? out.paint("green", "inject") : out.paint("yellow", "no credential")}: ${result.reason}`];
  if (result.rule !== null) lines.push(`  rule: host ${result.rule.host}${result.rule.path_prefix === null ? "" : `, path ${result.rule.path_prefix}`}`);
  if (result.expires_at !== null) lines.push(`  connection ${result.connection_status ?? ""}, expires ${result.expires_at}`);
  lines.push(`  authsome run: ${result.intercepted ? "TLS intercepted" : "passed untouched (blind tunnel for https)"}; --deny-unmatched: ${result.deny_unmatched}`);
  for (const candidate of result.candidates) lines.push(`  ${out.paint("dim", `${candidate.provider} (${candidate.outcome}):`)} ${candidate.reason}`);
  return `${lines.join("\n")}\n`;
}

export default defineCommand({
  name: "explain",
  summary: "Say which provider, connection and rule a request to a URL would get, and where the credential would go (never its value), or why none. Sends nothing.",
  args: ["<url>"],
  options: {
    connection: { type: "string", short: "c", value: "NAME", kind: "connection", description: "as if the agent named this connection (proxy username or X-Authsome-Connection)" },
  },
  examples: ["authsome explain https://api.github.com/user", "authsome explain https://api.github.com/user --connection work --json"],
  async run({ args, options, api, out }) {
    const result = await api.call("explain", { url: args[0], connection: options.connection });
    out.data(result, () => formatExplanation(result, out));
  },
});
