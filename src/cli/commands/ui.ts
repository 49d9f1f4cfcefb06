import { AuthsomeError } from "../../core/errors.ts";
import { defineCommand } from "../command.ts";
import { holdUntilSignal } from "../daemon-lifetime.ts";
import type { Output } from "../output.ts";

/** Prints the link, then opens it unless told not to or no browser is at hand (as `login` does). */
async function showLink(url: string, noBrowser: boolean, out: Output): Promise<void> {
  const { browserAtHand, openBrowser } = await import("../../runtime/index.ts");
  out.data({ url }, () => `${url}\n`);
  if (noBrowser) return out.info("Open the link above in a browser on this machine (it works once, for two minutes).");
  const check = browserAtHand();
  if (!check.ok) return out.info(`A browser cannot be opened here: ${check.reason}. Open the link above (it works once, for two minutes).`);
  if (!(await openBrowser(url))) out.info("Could not start a browser; open the link above yourself.");
}

export default defineCommand({
  name: "ui",
  summary: "Open the local dashboard: connections, logins, running agents, the audit log and an explain box, on 127.0.0.1. Prints a one-time link; Ctrl-C ends it.",
  options: {
    "no-browser": { type: "boolean", description: "print the one-time link only" },
    port: { type: "string", value: "N", description: "port on 127.0.0.1 (default: a free one)" },
  },
  examples: ["authsome ui", "authsome ui --no-browser      # over SSH: forward the port, open the link"],
  async run({ options, out, profile }) {
    const portText = options.port ?? "0";
    const port = Number(portText);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new AuthsomeError("usage", `invalid port "${portText.slice(0, 10)}"`);
    const [{ resolveContext }, { dashboardLinkFromDaemon }] = await Promise.all([import("../../core/context.ts"), import("../../server/daemon-client.ts")]);
    const home = resolveContext(profile === undefined ? {} : { profile }).home;
    // One daemon per home: when `authsome serve` runs, its dashboard is the one to open.
    const running = await dashboardLinkFromDaemon(home);
    if (running !== null) {
      out.info(`The home's daemon at ${running.daemonUrl} serves the dashboard.`);
      return showLink(running.url, options["no-browser"], out);
    }
    const { startDaemon } = await import("../../server/daemon.ts");
    const daemon = await startDaemon({ port, ...(profile === undefined ? {} : { profile }) });
    out.info(`authsome dashboard listening on ${daemon.url}; it also hosts the proxy of authsome run in this home. Ctrl-C to stop.`);
    await showLink(daemon.dashboardLink(), options["no-browser"], out);
    await holdUntilSignal(daemon, out, "dashboard");
  },
});
