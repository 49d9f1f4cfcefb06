/**
 * A daemon in the foreground (`serve`, `ui`): runs until SIGINT or SIGTERM, then closes and
 * removes `<home>/daemon.json`, so clients stop looking for it.
 */
import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { Daemon } from "../server/daemon.ts";
import type { Output } from "./output.ts";

/** Waits for Ctrl-C (or SIGTERM), then stops the daemon. */
export async function holdUntilSignal(daemon: Daemon, out: Output, what: string): Promise<void> {
  // Listeners stay until the daemon is closed: with none left, a signal would kill the process
  // (Deno does so the moment the last listener is removed) before the cleanup below.
  let stop = () => {};
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  await stopped;
  await daemon.close();
  await rm(join(daemon.home, "daemon.json"), { force: true });
  out.info(`${what} stopped`);
  process.off("SIGINT", stop);
  process.off("SIGTERM", stop);
}
