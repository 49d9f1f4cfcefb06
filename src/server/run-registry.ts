/**
 * The live registry of the runs a daemon hosts, for the dashboard: each run's pid and command
 * name, the hosts its agent contacted, how many requests were injected, refused by the
 * allowlist (`--deny-unmatched`) or stopped by a tripwire, and a feed of those events as they
 * happen (server-sent to the page). Events carry names, hosts and statuses, never a header value
 * or a secret; the command is its name alone (arguments may hold anything).
 */
import type { AuditEvent } from "../core/audit.ts";
import type { ProxyObserver } from "../proxy/session.ts";

/** What happened in a run. */
export type RunEventKind = "started" | "ended" | "host" | "injected" | "blocked" | "tripped";

/** One event of a run, as the page receives it. */
export interface RunEvent {
  run: string;
  time: string;
  kind: RunEventKind;
  host?: string;
  port?: number;
  method?: string;
  provider?: string;
  connection?: string;
  status?: number;
  intercepted?: boolean;
}

/** A run as listed. */
export interface RunSummary {
  id: string;
  pid: number | null;
  command: string | null;
  profile: string;
  deny_unmatched: boolean;
  started_at: string;
  ended_at: string | null;
  injected: number;
  blocked: number;
  tripped: number;
  hosts: { host: string; intercepted: boolean; blocked: boolean }[];
  /** The latest events, newest last. */
  recent: RunEvent[];
}

/** What a hosted run is registered with. */
export interface RunStart {
  pid?: number | undefined;
  command?: string | undefined;
  profile: string;
  denyUnmatched: boolean;
}

/** The registry the daemon and the dashboard share. */
export interface RunRegistry {
  /** Registers a run; returns the observer its proxy session reports to. */
  start(id: string, info: RunStart): ProxyObserver;
  /** Marks a run as ended (kept in the list a while, so the page can show how it went). */
  end(id: string): void;
  list(): RunSummary[];
  /** Calls `listener` with every event from now on; returns the unsubscribe. */
  subscribe(listener: (event: RunEvent) => void): () => void;
}

const RECENT = 50;
const KEPT_ENDED = 20;
const MAX_HOSTS = 200;

/** Creates an empty registry. */
export function createRunRegistry(now: () => Date = () => new Date()): RunRegistry {
  const runs = new Map<string, RunSummary>();
  const listeners = new Set<(event: RunEvent) => void>();
  const emit = (run: RunSummary, event: Omit<RunEvent, "run" | "time">) => {
    const full: RunEvent = { run: run.id, time: now().toISOString(), ...event };
    run.recent.push(full);
    if (run.recent.length > RECENT) run.recent.shift();
    for (const listener of listeners) {
      try {
        listener(full);
      } catch {
        // A page that went away must not break the run it was watching.
      }
    }
  };
  const touchHost = (run: RunSummary, host: string, intercepted: boolean, blocked: boolean) => {
    const known = run.hosts.find((h) => h.host === host);
    if (known !== undefined) {
      known.blocked ||= blocked;
      return false;
    }
    if (run.hosts.length < MAX_HOSTS) run.hosts.push({ host, intercepted, blocked });
    return true;
  };
  const observer = (run: RunSummary): ProxyObserver => ({
    host(host, port, intercepted) {
      const name = port === 443 || port === 80 ? host : `${host}:${port}`;
      if (touchHost(run, name, intercepted, false)) emit(run, { kind: "host", host: name, port, intercepted });
    },
    denied(host, port) {
      run.blocked += 1;
      touchHost(run, port === 443 || port === 80 ? host : `${host}:${port}`, false, true);
      emit(run, { kind: "blocked", host, port, status: 403 });
    },
    audit(event: AuditEvent) {
      const base = { ...(event.host === undefined ? {} : { host: event.host }), ...(event.method === undefined ? {} : { method: event.method }), ...(event.provider === undefined ? {} : { provider: event.provider }), ...(typeof event.status === "number" ? { status: event.status } : {}) };
      if (event.action === "inject") {
        run.injected += 1;
        emit(run, { kind: "injected", ...base, ...(event.connection === undefined ? {} : { connection: event.connection }) });
      } else if (event.action === "egress.exfiltration") {
        run.tripped += 1;
        emit(run, { kind: "tripped", ...base });
      }
    },
  });
  return {
    start(id, info) {
      const run: RunSummary = { id, pid: info.pid ?? null, command: info.command ?? null, profile: info.profile, deny_unmatched: info.denyUnmatched, started_at: now().toISOString(), ended_at: null, injected: 0, blocked: 0, tripped: 0, hosts: [], recent: [] };
      runs.set(id, run);
      emit(run, { kind: "started" });
      return observer(run);
    },
    end(id) {
      const run = runs.get(id);
      if (run === undefined || run.ended_at !== null) return;
      run.ended_at = now().toISOString();
      emit(run, { kind: "ended" });
      const ended = [...runs.values()].filter((r) => r.ended_at !== null);
      for (const old of ended.slice(0, Math.max(0, ended.length - KEPT_ENDED))) runs.delete(old.id);
    },
    list: () => [...runs.values()].map((run) => ({ ...run, hosts: [...run.hosts], recent: [...run.recent] })),
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
