/**
 * How `authsome run` finds the home's daemon: `<home>/daemon.json` names its address, the
 * 0600 `<home>/daemon.token` authorises the request, and `/v1/health` must answer. A stale file
 * (the daemon died) means no daemon.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import * as v from "valibot";
import { AuthsomeError } from "../core/errors.ts";
import { getEnv, processAlive } from "../runtime/index.ts";
import { type LoopbackAnswer, loopbackJson } from "../runtime/loopback.ts";

const DaemonFile = v.object({ url: v.pipe(v.string(), v.url()), port: v.number(), pid: v.number() });
const RunAnswer = v.object({ run: v.object({ id: v.string(), proxy_url: v.string(), port: v.number(), bundle_path: v.string(), ca_path: v.string(), providers: v.array(v.string()) }) });
const ErrorAnswer = v.object({ error: v.string(), message: v.string() });

/** A proxy session hosted by the daemon. */
export interface DaemonRun {
  daemonUrl: string;
  proxyUrl: string;
  port: number;
  bundlePath: string;
  caPath: string;
  /**
   * The providers with at least one connection, as the daemon sees them: it holds the unlocked
   * key (passphrase mode), so `authsome run` needs no passphrase of its own.
   */
  connectedProviders(): Promise<string[]>;
  close(): Promise<void>;
}

/**
 * How long a run waits for its daemon to accept it (status and headers). A daemon accepts at
 * once and makes the session after, so only a frozen or gone daemon misses this.
 */
const DAEMON_ANSWER_MS = 30_000;

/**
 * Once the daemon has accepted the run (202), how long its session may take: it makes sessions
 * in arrival order, so under load a run waits for the ones before it.
 */
const SESSION_MS = 120_000;

/** `AUTHSOME_DAEMON_TIMEOUT` (seconds, 1-600) or the default; anything else is refused. */
function _answerMs(): number {
  const raw = getEnv("AUTHSOME_DAEMON_TIMEOUT");
  if (raw === undefined) return DAEMON_ANSWER_MS;
  const seconds = Number(raw);
  if (!/^\d+(\.\d+)?$/.test(raw) || seconds < 1 || seconds > 600) throw new AuthsomeError("usage", `AUTHSOME_DAEMON_TIMEOUT must be a number of seconds from 1 to 600, got ${JSON.stringify(raw.slice(0, 20))}`);
  return seconds * 1000;
}

/** The home's daemon from its files; null when there is none (no file, or its process is gone). */
async function readDaemon(home: string): Promise<{ url: string; token: string } | null> {
  try {
    const info = v.safeParse(DaemonFile, JSON.parse(await readFile(join(home, "daemon.json"), "utf8")));
    if (!info.success || !processAlive(info.output.pid)) return null;
    const token = (await readFile(join(home, "daemon.token"), "utf8")).trim();
    return { url: info.output.url, token };
  } catch {
    return null;
  }
}

/**
 * Asks the home's daemon for a proxy session. Null when no daemon runs, or when it does not
 * answer within AUTHSOME_DAEMON_TIMEOUT (default 20 s; then `onFallback` hears why, and the run hosts its own
 * proxy). A daemon that answers and refuses is an error, not a fallback.
 */
export async function openDaemonRun(
  home: string,
  body: { profile?: string; connections?: Record<string, string>; deny_unmatched?: boolean; command?: string },
  onFallback: (reason: string) => void = () => {},
): Promise<DaemonRun | null> {
  const timeoutMs = _answerMs();
  const daemon = await readDaemon(home);
  if (daemon === null) return null;
  const headers = { authorization: `Bearer ${daemon.token}`, "content-type": "application/json" };
  let response: LoopbackAnswer;
  try {
    const sent = JSON.stringify({ ...body, pid: process.pid });
    response = await loopbackJson(`${daemon.url}/v1/runs`, { method: "POST", headers, body: sent, timeoutMs, bodyTimeoutMs: SESSION_MS });
  } catch (error) {
    onFallback(`the daemon at ${daemon.url} did not answer (${(error as Error).message}); hosting the proxy in this process`);
    return null;
  }
  const answer = v.safeParse(RunAnswer, response.body);
  if (response.status !== 202 || !answer.success) {
    const said = v.safeParse(ErrorAnswer, response.body);
    const why = said.success ? `: ${said.output.message}` : ` (HTTP ${response.status})`;
    throw new AuthsomeError("daemon_unavailable", `the daemon at ${daemon.url} refused the run${why}`, { hint: "restart it: authsome serve" });
  }
  const run = answer.output.run;
  return {
    daemonUrl: daemon.url,
    proxyUrl: run.proxy_url,
    port: run.port,
    bundlePath: run.bundle_path,
    caPath: run.ca_path,
    connectedProviders: () => Promise.resolve(run.providers),
    close: async () => {
      await loopbackJson(`${daemon.url}/v1/runs/${run.id}`, { method: "DELETE", headers, timeoutMs }).catch(() => undefined);
    },
  };
}

const LinkAnswer = v.object({ url: v.pipe(v.string(), v.url()) });

/** A one-time dashboard link from the home's running daemon; null when no daemon is running. */
export async function dashboardLinkFromDaemon(home: string): Promise<{ url: string; daemonUrl: string } | null> {
  const daemon = await readDaemon(home);
  if (daemon === null) return null;
  const response = await fetch(`${daemon.url}/v1/ui/link`, { method: "POST", headers: { authorization: `Bearer ${daemon.token}`, "content-type": "application/json" }, body: "{}", signal: AbortSignal.timeout(10_000) });
  const answer = v.safeParse(LinkAnswer, await response.json().catch(() => undefined));
  if (!response.ok || !answer.success) throw new AuthsomeError("daemon_unavailable", `the daemon at ${daemon.url} gave no dashboard link (HTTP ${response.status})`, { hint: "it may be an older authsome: restart it with authsome serve" });
  return { url: answer.output.url, daemonUrl: daemon.url };
}
