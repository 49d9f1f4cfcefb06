/**
 * `authsome mcp list | stdio <url> | import mcp-remote`, and the MCP half of `login` (a URL
 * argument). The work is in src/mcp/; these only parse, call and print.
 */
import { AuthsomeError } from "../../core/errors.ts";
import { stdioStream, writeStdio } from "../../runtime/stdio.ts";
import type { ApiClient } from "../client.ts";
import { defineCommand } from "../command.ts";
import type { Output } from "../output.ts";

/** What `login <url>` hands over. */
export interface LoginByUrl {
  api: ApiClient;
  out: Output;
  url: string;
  options: { connection?: string | undefined; force: boolean; name?: string | undefined; "client-id"?: string | undefined; "client-metadata-url"?: string | undefined; flow?: string | undefined; "base-url"?: string | undefined };
  scopes: string[] | undefined;
  timeoutMs: number | undefined;
  redirectPort: number | undefined;
}

/** `authsome login <url>`: MCP login by URL. */
export async function loginByUrl(input: LoginByUrl): Promise<void> {
  const { api, out, options } = input;
  // An MCP server's flow and endpoints come from its metadata, never from flags.
  for (const flag of ["flow", "base-url"] as const) {
    if (options[flag] !== undefined) throw new AuthsomeError("usage", `--${flag} does not apply to an MCP server's URL`, { hint: `run: authsome login ${input.url}` });
  }
  if (options["client-id"] !== undefined && options["client-metadata-url"] !== undefined) throw new AuthsomeError("usage", "--client-id and --client-metadata-url are two client identities: pass one");
  const view = await api.call("mcpLogin", {
    url: input.url,
    name: options.name,
    connection: options.connection,
    force: options.force,
    scopes: input.scopes,
    client_id: options["client-id"],
    client_metadata_url: options["client-metadata-url"],
    timeout_ms: input.timeoutMs,
    redirect_port: input.redirectPort,
  });
  out.data(view, () => "");
  out.info(`${out.paintMessage("green", "✓")} Logged in to the MCP server ${view.server.url} as ${view.provider}/${view.connection}${view.is_default ? " (default)" : ""}.`);
  out.info(`  authorization server: ${view.server.issuer}; client: ${view.server.client_identity.replace("_", " ")}; scopes: ${view.scopes.join(" ") || "(none)"}`);
}

const list = defineCommand({
  name: "mcp list",
  summary: "MCP servers of this home: authorization server, connections, status, scopes, expiry, step-up needed.",
  async run({ api, out }) {
    const { servers } = await api.call("mcpList", {});
    out.data({ servers }, () => {
      if (servers.length === 0) return "No MCP servers yet: authsome login https://mcp.example.com/mcp\n";
      const lines: string[] = [];
      for (const s of servers) {
        lines.push(`${out.paint("bold", s.name)}  ${s.url}`, `  issuer ${s.issuer} (client: ${s.client_identity.replace("_", " ")})`);
        if (s.connections.length === 0) lines.push("  no connection: authsome login " + s.url);
        for (const c of s.connections) {
          const stepUp = c.step_up === null ? "" : `  ${out.paint("yellow", `step-up needed: ${c.step_up.join(" ")}`)} (authsome login ${s.url}${c.connection === "default" ? "" : ` --connection ${c.connection}`})`;
          lines.push(`  ${c.connection}: ${c.status}; scopes ${c.scopes.join(" ") || "(none)"}; ${c.expires_at === null ? "no expiry" : `expires ${c.expires_at}`}${stepUp}`);
        }
      }
      return `${lines.join("\n")}\n`;
    });
  },
});

const stdio = defineCommand({
  name: "mcp stdio",
  summary: "Serve MCP on stdio, bridged to the remote server with the token injected and refreshed (a drop-in for `npx mcp-remote URL`).",
  args: ["<url>"],
  options: {
    connection: { type: "string", short: "c", value: "NAME", kind: "connection", description: "connection to use (default: the server's default)" },
    "no-browser": { type: "boolean", description: "on a step-up, print the login URL instead of opening a browser" },
  },
  examples: ['{"mcpServers": {"example": {"command": "authsome", "args": ["mcp", "stdio", "https://mcp.example.com/mcp"]}}}'],
  async run({ args, options, profile }) {
    const [{ createAuthService }, { runStdioBridge }, { createInteraction }, { createOutput }] = await Promise.all([
      import("../../core/auth-service.ts"), import("../../mcp/stdio-bridge.ts"), import("../interaction.ts"), import("../output.ts"),
    ]);
    const service = await createAuthService({ actor: "cli:mcp-stdio", ...(profile === undefined ? {} : { profile }) });
    const log = (line: string) => void writeStdio(2, `${line}\n`);
    // stdin is the protocol: the re-authorization never reads a secret from it.
    const interaction = { ...createInteraction(createOutput({ json: false, quiet: false, noColor: true }), () => options["no-browser"], new AbortController().signal), readPipedSecret: async () => undefined };
    delete interaction.prompt;
    try {
      return await runStdioBridge({ service, url: args[0], stdin: process.stdin, stdout: stdioStream(1), log, interaction, ...(options.connection === undefined ? {} : { connection: options.connection }) });
    } finally {
      await service.close();
    }
  },
});

const importCommand = defineCommand({
  name: "mcp import",
  summary: "Import another MCP client's plaintext tokens into the vault (mcp-remote: ~/.mcp-auth) and list the files you may delete.",
  args: ["<mcp-remote>"],
  options: {
    dir: { type: "string", value: "DIR", description: "mcp-remote's token folder (default: $MCP_REMOTE_CONFIG_DIR or ~/.mcp-auth)" },
    url: { type: "string", multiple: true, value: "URL", description: "a server URL to match files against (mcp-remote keeps only a hash of it); discovered, not logged in" },
    connection: { type: "string", short: "c", value: "NAME", kind: "connection", description: "connection name for what is imported (default: default)" },
  },
  async run({ args, options, api, out }) {
    if (args[0] !== "mcp-remote") throw new AuthsomeError("usage", `cannot import from "${String(args[0]).slice(0, 40)}"`, { hint: "supported: authsome mcp import mcp-remote" });
    const report = await api.call("mcpImport", { dir: options.dir, urls: options.url, connection: options.connection });
    out.data(report, () => {
      const lines = [
        ...report.imported.map((i) => `imported ${i.url} as ${i.provider}/${i.connection}`),
        ...report.refused.map((r) => `not imported ${r.file}: ${r.reason}`),
      ];
      if (report.deletable.length > 0) lines.push("", "These plaintext files hold what is now in the vault; you may delete them:", ...report.deletable.map((f) => `  ${f}`));
      return `${lines.join("\n") || "nothing to import"}\n`;
    });
  },
});

export default defineCommand({
  name: "mcp",
  summary: "MCP servers by URL: list them, bridge one to stdio, import other clients' tokens (log in with `authsome login <url>`).",
  subcommands: { list, stdio, import: importCommand },
});
