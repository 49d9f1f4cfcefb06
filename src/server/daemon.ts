/**
 * The home's daemon: the `/v1` API served on 127.0.0.1 behind a bearer token (0600 file in the
 * home). Its address goes to `<home>/daemon.json` so clients of the same home can find it.
 * In passphrase mode it unlocks the master key once, at start, and holds it in memory for its
 * lifetime, so `authsome run` and API clients need no passphrase.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { createAuthService, type AuthService } from "../core/auth-service.ts";
import { randomToken } from "../core/crypto.ts";
import { AuthsomeError } from "../core/errors.ts";
import { createFileExclusive, writeFileAtomic } from "../core/files.ts";
import { serveFetch, stdinIsTty } from "../runtime/index.ts";
import { createApp } from "./app.ts";
import { createRunRegistry } from "./run-registry.ts";
import { mountRuns } from "./runs.ts";
import { mountDashboard } from "./ui/index.ts";

/** A running daemon. */
export interface Daemon {
  url: string;
  port: number;
  home: string;
  /** A fresh one-time sign-in URL for the dashboard (`/ui/`). */
  dashboardLink(): string;
  close(): Promise<void>;
}

/** Reads (or creates) the home's daemon bearer token. */
export async function daemonToken(home: string): Promise<string> {
  const path = join(home, "daemon.token");
  await createFileExclusive(path, randomToken(32), 0o600);
  return (await readFile(path, "utf8")).trim();
}

/** Starts the daemon for a home (from the environment) on 127.0.0.1. */
export async function startDaemon(options: { port: number; profile?: string }): Promise<Daemon> {
  const services = new Map<string, Promise<AuthService>>();
  const getService = (profile: string | undefined) => {
    const key = profile ?? options.profile ?? "";
    let service = services.get(key);
    if (service === undefined) {
      service = createAuthService({ actor: "daemon", ...(key === "" ? {} : { profile: key }) });
      services.set(key, service);
    }
    return service;
  };
  const first = await getService(undefined);
  const home = first.context.home;
  await _holdMasterKey(first);
  const token = await daemonToken(home);
  // Until the listener reports its port (port 0), every request is refused as misaddressed.
  let port = options.port;
  const app = createApp({ getService, token, listenPort: () => port });
  const runs = createRunRegistry();
  const closeRuns = mountRuns(app, getService, runs);
  await closeRuns.warm();
  const dashboard = mountDashboard(app, { getService, port: () => port, runs });
  // `authsome ui` with a daemon already running asks it for a link (bearer token, like all of /v1).
  app.post("/v1/ui/link", (c) => c.json({ url: dashboard.link() }, 201));
  let listener;
  try {
    listener = await serveFetch(app.fetch, { hostname: "127.0.0.1", port: options.port });
  } catch (cause) {
    throw new AuthsomeError("daemon_unavailable", `cannot listen on 127.0.0.1:${options.port}`, { cause, hint: "is another daemon running? try --port 0" });
  }
  port = listener.port;
  const url = `http://127.0.0.1:${listener.port}`;
  await writeFileAtomic(join(home, "daemon.json"), JSON.stringify({ url, port: listener.port, pid: process.pid, started_at: new Date().toISOString() }));
  return {
    url,
    port: listener.port,
    home,
    dashboardLink: () => dashboard.link(),
    close: async () => {
      dashboard.close();
      await closeRuns();
      await listener.close();
    },
  };
}

/**
 * Passphrase mode: unlocks `master.key` now (AUTHSOME_PASSPHRASE, else one hidden prompt at the
 * terminal) and holds the key in this process (src/core/keys.ts). Requests never prompt, so a
 * daemon that cannot unlock fails here, in one line, not at its first request. The default
 * profile's key is then opened too, so a wrong key or an unopenable rotation fails here as well.
 */
async function _holdMasterKey(service: AuthService): Promise<void> {
  const { home, masterKey, passphrase } = service.context;
  if (masterKey !== undefined) return;
  const [{ describeCustody }, { holdUnlockedKey, masterKeyPath }] = await Promise.all([import("../core/key-custody.ts"), import("../core/keys.ts")]);
  if (describeCustody(home, masterKey, passphrase).key_mode !== "passphrase (locked)") return;
  if (passphrase === undefined && !stdinIsTty()) {
    throw new AuthsomeError("master_key_invalid", `${masterKeyPath(home)} is protected by a passphrase and authsome serve is not at a terminal to ask for it`, {
      hint: "set AUTHSOME_PASSPHRASE for the daemon, or start it at a terminal: it asks once and holds the unlocked key",
    });
  }
  await holdUnlockedKey(home, passphrase, true);
  await service.core.masterKey();
}
