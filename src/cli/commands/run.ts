import { basename } from "node:path";
import { AuthsomeError } from "../../core/errors.ts";
import { defineCommand } from "../command.ts";
import { checkNameValue, shown } from "../parse.ts";

/** `--connection provider=NAME` values, each name checked like any connection name. */
function parseConnections(values: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const value of values) {
    const match = /^([a-z0-9][a-z0-9_-]*)=(.*)$/.exec(value);
    if (match === null) throw new AuthsomeError("usage", `--connection takes PROVIDER=NAME, got ${shown(value)}`);
    checkNameValue(`--connection ${match[1]}=`, match[2] ?? "");
    out[match[1] ?? ""] = match[2] ?? "";
  }
  return out;
}

export default defineCommand({
  name: "run",
  summary: "Run a command behind a local proxy that injects credentials into its HTTP(S) requests; the command never sees a secret.",
  args: ["-- <command> [args...]"],
  options: {
    connection: { type: "string", multiple: true, value: "PROVIDER=NAME", description: "use this connection for a provider for the whole run (repeatable)" },
    "deny-unmatched": { type: "boolean", description: "egress allowlist: refuse (403) requests to hosts no connected provider declares" },
  },
  examples: ["authsome run -- curl https://api.openai.com/v1/models", "authsome run -- python agent.py", "authsome run --connection github=work -- node agent.mjs"],
  async run({ options, out, rest, args }) {
    const argv = rest.length > 0 ? rest : args;
    const [command, ...commandArgs] = argv;
    if (command === undefined) throw new AuthsomeError("usage", "no command to run", { hint: "usage: authsome run [options] -- <command> [args...]" });
    const connections = parseConnections(options.connection);
    const [{ createAuthService }, { buildChildEnv, checkCommand, runChild }, { openDaemonRun }] = await Promise.all([
      import("../../core/auth-service.ts"),
      import("../../proxy/child.ts"),
      import("../../server/daemon-client.ts"),
    ]);
    checkCommand(command, process.env["PATH"]);
    const profile = options.profile;
    const denyUnmatched = options["deny-unmatched"];
    const service = await createAuthService({ actor: "cli:run", askPassphrase: true, ...(profile === undefined ? {} : { profile }) });
    // The home's daemon hosts the proxy when one runs (`authsome serve`); else this process does.
    const hosted = await openDaemonRun(service.context.home, { ...(profile === undefined ? {} : { profile }), connections, deny_unmatched: denyUnmatched, command: basename(command) }, (reason) => out.info(`authsome: ${reason}`));
    // Loaded only when this process hosts the proxy: a hosted run stays smaller than a self-hosted one.
    const session = hosted ?? (await (await import("../../proxy/session.ts")).startProxySession(service, { connections, denyUnmatched }));
    try {
      // Asked of the daemon when it hosts the run: it holds the key (passphrase mode), this process may not.
      const connected = hosted !== null ? await hosted.connectedProviders()
        : (await service.listProviders()).providers.filter((p) => p.connections.length > 0).map((p) => p.name);
      const plugins = await Promise.all(connected.map((name) => service.core.registry.get(name)));
      const where = hosted === null ? "" : ` (hosted by the daemon at ${hosted.daemonUrl})`;
      out.info(`authsome: proxy on 127.0.0.1:${session.port}${where}; injecting for ${connected.length ? connected.join(", ") : "no provider (none connected)"}`);
      return await runChild(command, commandArgs, buildChildEnv(process.env, session, plugins, command));
    } finally {
      await session.close();
      await service.close();
    }
  },
});
