import { rm } from "node:fs/promises";
import { join } from "node:path";
import { AuthsomeError } from "../../core/errors.ts";
import { defineCommand } from "../command.ts";

export default defineCommand({
  name: "serve",
  summary: "Run the home's daemon in the foreground: the /v1 API on 127.0.0.1, guarded by a bearer token kept 0600 in the home.",
  options: { port: { type: "string", value: "N", description: "port (AUTHSOME_PORT; default 7998; 0 = ephemeral)" } },
  async run({ options, out, profile }) {
    const { startDaemon } = await import("../../server/daemon.ts");
    const portText = options.port ?? process.env["AUTHSOME_PORT"] ?? "7998";
    const port = Number(portText);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new AuthsomeError("usage", `invalid port "${portText.slice(0, 10)}"`);
    const daemon = await startDaemon({ port, ...(profile === undefined ? {} : { profile }) });
    out.data({ url: daemon.url, pid: process.pid, token_file: join(daemon.home, "daemon.token") }, () => "");
    out.info(`authsome daemon listening on ${daemon.url} (token in ${join(daemon.home, "daemon.token")}); Ctrl-C to stop`);
    // Listeners stay until the daemon is closed: with none left, a signal would kill the process
    // (Deno does so the moment the last listener is removed) before the cleanup below.
    let stop = () => {};
    const stopped = new Promise<void>((resolve) => (stop = resolve));
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
    await stopped;
    await daemon.close();
    await rm(join(daemon.home, "daemon.json"), { force: true });
    out.info("daemon stopped");
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
  },
});
