/**
 * A real Secret Service for tests: a private D-Bus session bus (dbus-run-session) with
 * gnome-keyring-daemon on it, its login keyring created and unlocked with a throwaway password
 * in a temporary HOME. Debian packages: dbus, gnome-keyring, libsecret-tools (.ci/run installs
 * them). Returns the skip reason instead when they are missing.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A running session bus with the keyring on it. */
export interface SecretService {
  /** DBUS_SESSION_BUS_ADDRESS for the CLI under test. */
  env: Record<string, string>;
  /** Runs `secret-tool` against this keyring (for checks from outside authsome). */
  secretTool(args: string[]): { code: number | null; stdout: string };
  stop(): Promise<void>;
}

const READY_MS = 15_000;

/** Why a Secret Service cannot be started here, or undefined when it can. */
export function secretServiceMissing(): string | undefined {
  for (const tool of ["dbus-run-session", "gnome-keyring-daemon", "secret-tool"]) {
    if (spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0) return `${tool} is not installed (apt-get install -y dbus gnome-keyring libsecret-tools)`;
  }
  return undefined;
}

/** Starts the bus and the keyring daemon; resolves once the daemon says it is up (bounded). */
export async function startSecretService(): Promise<SecretService> {
  const home = await mkdtemp(join(tmpdir(), "authsome-keyring-"));
  // The shell prints the bus address, then execs the daemon, which reads the keyring password
  // from stdin and prints GNOME_KEYRING_CONTROL once it serves the bus.
  const script = 'echo "ADDRESS=$DBUS_SESSION_BUS_ADDRESS"; printf pw | exec gnome-keyring-daemon --unlock --components=secrets --foreground';
  const child = spawn("dbus-run-session", ["--", "sh", "-c", script], {
    env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: home, XDG_DATA_HOME: join(home, "data") },
    stdio: ["ignore", "pipe", "ignore"],
    detached: true,
  });
  let output = "";
  const address = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gnome-keyring-daemon not ready within ${READY_MS} ms: ${output}`)), READY_MS);
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      const found = /ADDRESS=(\S+)/.exec(output)?.[1];
      if (found !== undefined && output.includes("GNOME_KEYRING_CONTROL=")) {
        clearTimeout(timer);
        resolve(found);
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`dbus-run-session exited (${code}) before the keyring was ready: ${output}`));
    });
  });
  const env = { DBUS_SESSION_BUS_ADDRESS: address };
  return {
    env,
    secretTool: (args) => {
      const r = spawnSync("secret-tool", args, { env: { PATH: process.env["PATH"] ?? "", HOME: home, ...env }, encoding: "utf8", timeout: 10_000 });
      return { code: r.status, stdout: r.stdout };
    },
    async stop() {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      // The group we started: dbus-run-session, its bus, the shell's daemon.
      if (child.pid !== undefined && child.exitCode === null) process.kill(-child.pid, "SIGTERM");
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000).unref())]);
      await rm(home, { recursive: true, force: true });
    },
  };
}
