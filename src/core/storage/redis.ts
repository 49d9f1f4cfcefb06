/**
 * The Redis store (`AUTHSOME_STORAGE=redis://…` or `rediss://…`): one store for many machines.
 *
 * Bounded failures (issue 14): every call has a deadline (4 s: connect 2 s, one retry across a
 * reconnect, the command), so an unreachable or frozen server gives one `store_unavailable`
 * error naming the store within about 4 s, and a refused password `store_auth_failed`. A write
 * reports success if and only if it is stored: it runs as a script that refuses to write once
 * its deadline has passed on the server's clock, so a write the client gave up on (a SIGSTOPped
 * server resumed later, a command resent after a reconnect) never lands behind its back.
 *
 * Writes also keep the index (one `list` is one round trip whatever the store's size), bump the
 * store's version and publish a change notice, all in the same script (redis-scripts.ts); the
 * proxy and the daemon learn of changes from those notices instead of reading per request.
 */
import { readFileSync } from "node:fs";
import type { Driver } from "unstorage";
import type { Redis, RedisOptions } from "ioredis";
import { isSentinelUrl, sentinelOptions } from "./sentinel.ts";
import { AuthsomeError } from "../errors.ts";
import { createRedisLock, heldFences, type RedisLockClient } from "../lock.ts";
import { getEnv } from "../../runtime/index.ts";
import { parseStorageKey } from "./fs-driver.ts";
import { ACQUIRE_SCRIPT, WALK_SCRIPT, WRITE_SCRIPT } from "./redis-scripts.ts";
import { redactUrl, type Store } from "./index.ts";

const CONNECT_TIMEOUT_MS = 2_000;
/** No store call outlives this (a command, a reconnect and its retry included). */
const CALL_DEADLINE_MS = 4_000;
/** How long after the client sent it a write may still land (server clock): well under the deadline. */
const WRITE_BUDGET_MS = 3_000;

const RECORDS = "authsome:";
const INDEX = "authsome#idx:";
const VERSION = "authsome#version";
const INDEXED = "authsome#indexed";

const HINT = "check that the Redis server named by AUTHSOME_STORAGE is running and reachable from this machine (docs/fleet.md, \"Outages\")";

/** Maps what ioredis threw (or our deadline) to the store's error; never shows the URL's password. */
function _storeError(description: string, action: string, error: unknown, lastConnection: unknown): AuthsomeError {
  if (error instanceof AuthsomeError) return error;
  const text = [error, lastConnection].map((e) => (e instanceof Error ? e.message : "")).join(" ");
  if (/WRONGPASS|NOAUTH|invalid password|invalid username-password/i.test(text)) {
    return new AuthsomeError("store_auth_failed", `authentication failed at the redis store ${description}: it refused the user or password`, {
      cause: error,
      hint: "check the user and password in AUTHSOME_STORAGE (redis://user:password@host:port/db) and the server's ACL",
    });
  }
  if (/NOPERM/.test(text)) {
    return new AuthsomeError("store_auth_failed", `the redis store ${description} refused a command for this ACL user`, {
      cause: error,
      hint: "give the user ~authsome* &authsome* +@read +@write +@scripting +@pubsub +@connection +time +info (docs/fleet.md)",
    });
  }
  const unreachable = /timed out|ECONNREFUSED|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|ECONNRESET|max retries|Connection is closed|Stream isn't writeable|late/i.test(text);
  if (unreachable) {
    return new AuthsomeError("store_unavailable", `the redis store ${description} did not answer (${action}): ${_reason(text)}`, { cause: error, hint: HINT });
  }
  return new AuthsomeError("storage_failed", `cannot ${action} in the redis store ${description}`, { cause: error, hint: HINT });
}

function _reason(text: string): string {
  if (/ECONNREFUSED/.test(text)) return "connection refused";
  if (/ENOTFOUND/.test(text)) return "unknown host";
  if (/timed out|ETIMEDOUT|late/.test(text)) return "no answer in time (frozen, overloaded or cut off)";
  return "the connection was lost";
}

/** ioredis options: the deadlines above, TLS for rediss:// with an optional CA file. */
function _clientOptions(url: string): RedisOptions {
  const caFile = getEnv("AUTHSOME_REDIS_CA");
  const tls = new URL(url).protocol === "rediss:" ? { tls: caFile === undefined || caFile === "" ? {} : { ca: readFileSync(caFile, "utf8") } } : {};
  return {
    // Opening the store must not touch the network: the first command connects.
    lazyConnect: true,
    connectTimeout: CONNECT_TIMEOUT_MS,
    // No commandTimeout: a frozen server (SIGSTOP) would hang commands forever without one
    // (stack-notes.md), but ioredis fires it from a timer even when the answer is already in the
    // socket, and a CPU-starved process (30 CLIs on 2 cores) wakes to its timers before its
    // I/O. The deadline is _caller's, which reads the socket once before giving up.
    maxRetriesPerRequest: 1,
    // Reconnect for ever (a daemon outlives outages) with backoff; commands fail meanwhile.
    retryStrategy: (times: number) => Math.min(50 * 2 ** times, 2_000),
    ...tls,
  };
}

/** One store operation: bounded by {@link CALL_DEADLINE_MS}, failures mapped to the store's errors. */
export type RedisCall = <T>(action: string, run: () => Promise<T>) => Promise<T>;

/** What the fleet audit log (src/core/audit-stream.ts) needs of a Redis store. @internal */
export interface RedisHandle {
  client: Redis;
  call: RedisCall;
  description: string;
  /** The lock's commands with the store's deadlines (tests make short-TTL locks on it). */
  lockClient: RedisLockClient;
}

function _caller(client: Redis, description: string): RedisCall {
  let lastConnection: unknown;
  client.on("error", (error: unknown) => (lastConnection = error));
  client.on("ready", () => (lastConnection = undefined));
  return async (action, run) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<never>((_, reject) => {
      // setImmediate runs after the event loop's I/O phase: an answer that arrived while this
      // process was starved of CPU still wins over the deadline that expired meanwhile.
      timer = setTimeout(() => setImmediate(() => reject(new Error("timed out"))), CALL_DEADLINE_MS);
    });
    try {
      return await Promise.race([run(), expired]);
    } catch (error) {
      throw _storeError(description, action, error, lastConnection);
    } finally {
      clearTimeout(timer);
    }
  };
}

/** A round trip short enough for a clock reading to be kept: its error (half of it) fits the deadline's slack. */
const CLOCK_TRUSTED_RTT_MS = 1_000;

/**
 * The server's clock minus ours (ms): write deadlines are set on the server's clock. From a
 * short round trip, the midpoint estimate, kept for the connection (its error, under half the
 * round trip, fits in the second between the write budget and the call's deadline). From a long
 * one (a TIME held up by a frozen server, a starved event loop), the bound that errs early, for
 * this call only: the midpoint would push deadlines past the moment the client gives up, and a
 * write reported as failed could land.
 */
function _serverClock(client: Redis): () => Promise<number> {
  let offset: Promise<{ ms: number; trusted: boolean }> | undefined;
  client.on("ready", () => (offset = undefined));
  const measure = async (): Promise<{ ms: number; trusted: boolean }> => {
    const before = Date.now();
    const [seconds, micros] = await client.time();
    const after = Date.now();
    const server = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
    const trusted = after - before <= CLOCK_TRUSTED_RTT_MS;
    return { ms: server - (trusted ? (before + after) / 2 : after), trusted };
  };
  return async () => {
    const pending = (offset ??= measure());
    const forget = (): void => {
      if (offset === pending) offset = undefined;
    };
    const measured = await pending.catch((error: unknown) => {
      forget();
      throw error;
    });
    if (!measured.trusted) forget();
    return measured.ms;
  };
}

/** The index hashes from the root to a key's parent (`a:b:c` -> "", "a", "a:b"). */
function _dirs(segments: string[]): string[] {
  return segments.map((_, i) => INDEX + segments.slice(0, i).join(":"));
}

/** The driver: plain GET/EXISTS for reads; fenced, deadline-bound scripts for writes. */
function _driver(client: Redis, call: RedisCall, channel: string, clock: () => Promise<number>): Driver {
  const write = (key: string, op: "set" | "del", value: string): Promise<void> => {
    const segments = parseStorageKey(key);
    const fences = heldFences();
    return call(`write "${key}"`, async () => {
      const deadline = Math.round(Date.now() + (await clock()) + WRITE_BUDGET_MS);
      const keys = [RECORDS + key, VERSION, ..._dirs(segments), ...fences.map((f) => f.key)];
      const args = [deadline, op, value, segments.length, fences.length, channel, ...segments, ...fences.map((f) => f.owner)];
      const [status, detail] = (await client.eval(WRITE_SCRIPT, keys.length, ...keys, ...args)) as [string, number];
      if (status === "lost") {
        throw new AuthsomeError("lock_lost", `not written: this process lost lock ${fences[detail - 1]?.key ?? "?"} (it paused or was cut off past the lock's TTL) before writing "${key}"`, {
          hint: "another process holds the lock now and may have changed the record; retry the command",
        });
      }
      if (status === "late") throw new Error("late: the write reached the server after its deadline and was not stored");
    });
  };
  return {
    name: "authsome-redis",
    hasItem: (key) => call(`check "${key}"`, async () => (await client.exists(RECORDS + key)) === 1),
    getItem: (key) => call(`read "${key}"`, () => client.get(RECORDS + key)),
    getItems: async (items) => {
      if (items.length === 0) return [];
      const values = await call(`read ${items.length} records`, () => client.mget(items.map(({ key }) => RECORDS + key)));
      return items.map(({ key }, i) => ({ key, value: values[i] ?? null }));
    },
    setItem: (key, value) => write(key, "set", value),
    removeItem: (key) => write(key, "del", ""),
    getKeys: (base) => {
      const trimmed = (base ?? "").replace(/:+$/, "");
      return call(`list "${trimmed}"`, async () => (await client.eval(WALK_SCRIPT, 1, INDEXED, INDEX, RECORDS, trimmed)) as string[]);
    },
    dispose: () => void client.disconnect(),
  };
}

/**
 * Change notices: a subscriber connection on the store's channel. A notice lost while the
 * subscriber reconnects is covered by reporting a change at every (re)subscription: a watcher
 * never keeps what it read before a gap.
 */
function _watch(client: Redis, channel: string, onChange: () => void, onLost: () => void): () => void {
  const subscriber = client.duplicate({ lazyConnect: false, maxRetriesPerRequest: null });
  let subscribed = false;
  subscriber.on("error", () => {});
  subscriber.on("message", () => onChange());
  subscriber.on("ready", () => {
    subscriber.subscribe(channel).then(() => ((subscribed = true), onChange()), () => onLost());
  });
  subscriber.on("close", () => {
    if (subscribed) onChange();
    subscribed = false;
  });
  return () => void subscriber.disconnect();
}

/** Opens the Redis store at `url`; ioredis is loaded here only, as most runs never touch Redis. */
export async function openRedisStore(url: string, wrap: (driver: Driver, description: string) => Store["storage"]): Promise<Store> {
  const { Redis } = await import("ioredis");
  const description = redactUrl(url);
  // redis+sentinel:// (sentinel.ts): ioredis finds the primary through the sentinels.
  const client = isSentinelUrl(url) ? new Redis({ ...sentinelOptions(url), ..._clientOptions(url) }) : new Redis(url, _clientOptions(url));
  const call = _caller(client, description);
  const channel = `authsome#changes:${new URL(url).pathname.slice(1) || "0"}`;
  const clock = _serverClock(client);
  const storage = wrap(_driver(client, call, channel, clock), description);
  // The lock's commands get the same deadline as every other call.
  const bounded: RedisLockClient = {
    acquire: (key, owner, ttlMs) =>
      call(`take lock ${key}`, async () => {
        const deadline = Math.round(Date.now() + (await clock()) + WRITE_BUDGET_MS);
        const taken = Number(await client.eval(ACQUIRE_SCRIPT, 1, key, owner, ttlMs, deadline));
        if (taken < 0) throw new Error("late: the lock request reached the server after its deadline");
        return taken === 1;
      }),
    eval: (script, numKeys, ...args) => call("renew or release a lock", () => client.eval(script, numKeys, ...args)),
  };
  const lock = createRedisLock(bounded);
  return {
    storage,
    lock,
    kind: "redis",
    description,
    dispose: () => storage.dispose(),
    locate: (key) => `record ${key} in ${description}`,
    watchChanges: (onChange, onLost) => _watch(client, channel, onChange, onLost),
    redis: { client, call, description, lockClient: bounded },
  };
}
