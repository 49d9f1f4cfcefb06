import { writeStdio } from "../../runtime/stdio.ts";
import { defineCommand } from "../command.ts";

const FORMATS = ["env", "json", "shell"] as const;

/** Single-quotes a value for POSIX shells. */
function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

export default defineCommand({
  name: "export",
  summary: "Print a connection's env variables (never a refresh token or client secret).",
  args: ["<provider>"],
  options: {
    connection: { type: "string", short: "c", value: "NAME", kind: "connection", description: "connection (default: the provider's default)" },
    format: { type: "string", value: "FORMAT", choices: FORMATS, description: "env (NAME=value), json, or shell (export NAME='value')" },
  },
  examples: ["authsome export openai --format env", "eval \"$(authsome export github --format shell)\""],
  async run({ args, options, api, out }) {
    const format = options.format ?? (out.json ? "json" : "env");
    const { env } = await api.call("exportEnv", { provider: args[0], connection: options.connection });
    const entries = Object.entries(env);
    if (format === "json" || out.json) writeStdio(1, `${JSON.stringify(env, null, 2)}\n`);
    else if (format === "shell") writeStdio(1, entries.map(([k, val]) => `export ${k}=${shellQuote(val)}\n`).join(""));
    else writeStdio(1, entries.map(([k, val]) => `${k}=${val}\n`).join(""));
  },
});
