/**
 * How `authsome run` finds the home's daemon: `<home>/daemon.json` names its address, the
 * 0600 `<home>/daemon.token` authorises the request, and `/v1/health` must answer. A stale file
 * (the daemon died) means no daemon.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import * as v from "valibot";
import { AuthsomeError } from "../core/errors.ts";

const DaemonFile = v.object({ url: v.pipe(v.string(), v.url()), port: v.number(), pid: v.number() });
const RunAnswer = v.object({ id: v.string(), proxy_url: v.string(), port: v.number(), bundle_path: v.string(), ca_path: v.string() });

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

const ProvidersAnswer = v.object({ providers: v.array(v.object({ name: v.string(), connections: v.array(v.unknown()) })) });

async function readDaemon(home: string): Promise<{ url: string; token: string } | null> {
  try {
    const info = v.safeParse(DaemonFile, JSON.parse(await readFile(join(home, "daemon.json"), "utf8")));
    if (!info.success) return null;
    const token = (await readFile(join(home, "daemon.token"), "utf8")).trim();
    const health = await fetch(`${info.output.url}/v1/health`, { signal: AbortSignal.timeout(1500) });
    await health.body?.cancel();
    return health.ok ? { url: info.output.url, token } : null;
  } catch {
    return null;
  }
}

/** Asks the home's daemon for a proxy session; null when no daemon is running. */
export async function openDaemonRun(home: string, body: { profile?: string; connections?: Record<string, string>; deny_unmatched?: boolean; command?: string }): Promise<DaemonRun | null> {
  const daemon = await readDaemon(home);
  if (daemon === null) return null;
  const headers = { authorization: `Bearer ${daemon.token}`, "content-type": "application/json" };
  const response = await fetch(`${daemon.url}/v1/runs`, { method: "POST", headers, body: JSON.stringify({ ...body, pid: process.pid }) });
  const answer = v.safeParse(RunAnswer, await response.json().catch(() => undefined));
  if (!response.ok || !answer.success) throw new AuthsomeError("daemon_unavailable", `the daemon at ${daemon.url} refused the run (HTTP ${response.status})`, { hint: "restart it: authsome serve" });
  const run = answer.output;
  return {
    daemonUrl: daemon.url,
    proxyUrl: run.proxy_url,
    port: run.port,
    bundlePath: run.bundle_path,
    caPath: run.ca_path,
    connectedProviders: async () => {
      const asked: Record<string, string> = { authorization: headers.authorization };
      if (body.profile !== undefined) asked["x-authsome-profile"] = body.profile;
      const listed = await fetch(`${daemon.url}/v1/providers`, { headers: asked, signal: AbortSignal.timeout(30_000) });
      const parsed = v.safeParse(ProvidersAnswer, await listed.json().catch(() => undefined));
      if (!listed.ok || !parsed.success) throw new AuthsomeError("daemon_unavailable", `the daemon at ${daemon.url} did not list providers (HTTP ${listed.status})`, { hint: "restart it: authsome serve" });
      return parsed.output.providers.filter((p) => p.connections.length > 0).map((p) => p.name);
    },
    close: async () => {
      const closed = await fetch(`${daemon.url}/v1/runs/${run.id}`, { method: "DELETE", headers }).catch(() => undefined);
      await closed?.body?.cancel();
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
