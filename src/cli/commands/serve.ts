import { join } from "node:path";
import { AuthsomeError } from "../../core/errors.ts";
import { defineCommand } from "../command.ts";
import { holdUntilSignal } from "../daemon-lifetime.ts";

export default defineCommand({
  name: "serve",
  summary: "Run the home's daemon in the foreground: the /v1 API on 127.0.0.1, guarded by a bearer token kept 0600 in the home, and the dashboard at /ui/.",
  options: { port: { type: "string", value: "N", description: "port (AUTHSOME_PORT; default 7998; 0 = ephemeral)" } },
  async run({ options, out, profile }) {
    const { startDaemon } = await import("../../server/daemon.ts");
    const portText = options.port ?? process.env["AUTHSOME_PORT"] ?? "7998";
    const port = Number(portText);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new AuthsomeError("usage", `invalid port "${portText.slice(0, 10)}"`);
    const daemon = await startDaemon({ port, ...(profile === undefined ? {} : { profile }) });
    const dashboard = daemon.dashboardLink();
    out.data({ url: daemon.url, pid: process.pid, token_file: join(daemon.home, "daemon.token"), dashboard_url: dashboard }, () => "");
    out.info(`authsome daemon listening on ${daemon.url} (token in ${join(daemon.home, "daemon.token")}); Ctrl-C to stop`);
    out.info(`dashboard: ${dashboard} (a one-time link; authsome ui prints a new one)`);
    await holdUntilSignal(daemon, out, "daemon");
  },
});
