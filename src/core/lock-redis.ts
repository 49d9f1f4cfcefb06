/**
 * The Redis backend of {@link Lock}, for a store shared by machines (issue 14, "fenced locks").
 *
 * A lock is `SET authsome-lock:<name> <owner> NX PX ttl`; the owner value is unique per
 * acquisition (a random token, with pid, host and time for a waiter's message). Only its owner
 * renews (every ttl/5) or releases it, by compare-and-extend / compare-and-delete scripts. The
 * TTL is short (10 s) so that a lock whose holder died, froze or lost its network blocks others
 * for one TTL at most; a holder renews while it runs, however long that is. Renewing every 2 s
 * keeps at least 8 s on the lock at any moment: a store outage shorter than that (longer than a
 * call's 4 s deadline) ends with the holder still owning it, so a refresh that spent its refresh
 * token can still store the new one (src/core/storage/retry.ts).
 *
 * Fencing: a holder that paused past its TTL (SIGSTOP, a GC pause, a partition) may resume
 * believing it still holds the lock. Every store write made while holding locks carries their
 * owner values (kept in an AsyncLocalStorage, so no caller passes them), and the store's write
 * script checks them at commit (src/core/storage/redis-scripts.ts): a lost lock means nothing
 * is written and the writer gets `lock_lost`.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { hostname } from "node:os";
import { AuthsomeError } from "./errors.ts";
import { type Lock, _backoff, _queuedLock, _sleep } from "./lock.ts";
import { RELEASE_SCRIPT, RENEW_SCRIPT } from "./storage/redis-scripts.ts";

/**
 * The two Redis commands the lock needs; an ioredis client satisfies it. The store passes one
 * whose calls have its deadline and its errors (src/core/storage/redis.ts).
 */
export interface RedisLockClient {
  /** `SET key owner NX PX ttl`; true when taken. The store's refuses to land after its deadline. */
  acquire(key: string, owner: string, ttlMs: number): Promise<boolean>;
  eval(script: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>;
}

/** Options for {@link createRedisLock}. */
export interface RedisLockOptions {
  /** Lock expiry in Redis, renewed every ttlMs/5 while `fn` runs (default 10 000). */
  ttlMs?: number;
  /** Key prefix; kept apart from the store's own `authsome:` keys (default `authsome-lock:`). */
  prefix?: string;
}

/** A lock this async context holds: its Redis key and the owner value it set there. */
export interface Fence {
  key: string;
  owner: string;
}

const _held = new AsyncLocalStorage<readonly Fence[]>();

/** The Redis locks the calling async context holds (the store's writes check them). */
export function heldFences(): readonly Fence[] {
  return _held.getStore() ?? [];
}

const DEFAULT_TTL_MS = 10_000;

/** Polls `acquire` until it succeeds or the deadline passes. */
async function _acquire(client: RedisLockClient, key: string, value: string, ttlMs: number, deadline: number): Promise<boolean> {
  for (let attempt = 0; ; attempt++) {
    let taken: boolean;
    try {
      taken = await client.acquire(key, value, ttlMs);
    } catch (error) {
      throw error instanceof AuthsomeError ? error : new AuthsomeError("storage_failed", `redis failed while taking lock key "${key}"`, { cause: error });
    }
    if (taken) return true;
    if (Date.now() >= deadline) return false;
    await _sleep(_backoff(attempt, deadline));
  }
}

/** Who holds a Redis lock, from the value its holder set (pid, host, since). */
async function _holder(client: RedisLockClient, key: string): Promise<string> {
  try {
    const raw = await client.eval(`return redis.call("get", KEYS[1])`, 1, key);
    const holder: unknown = typeof raw === "string" ? JSON.parse(raw) : undefined;
    if (typeof holder !== "object" || holder === null) return "the holder is unknown";
    const { pid, host, since } = holder as Record<string, unknown>;
    return `held by pid ${String(pid)} on host ${String(host)} since ${new Date(Number(since)).toISOString()}`;
  } catch {
    return "the holder is unknown";
  }
}

/** A lock shared by every process using one Redis server (`SET NX PX`, Lua renew and release). */
export function createRedisLock(client: RedisLockClient, options: RedisLockOptions = {}): Lock {
  const ttlMs = options.ttlMs ?? DEFAULT_TTL_MS;
  const prefix = options.prefix ?? "authsome-lock:";
  return _queuedLock(async (name, timeoutMs, deadline) => {
    const key = prefix + name;
    const owner = JSON.stringify({ token: crypto.randomUUID(), pid: process.pid, host: _hostName(), since: Date.now() });
    if (!(await _acquire(client, key, owner, ttlMs, deadline))) {
      throw new AuthsomeError("lock_timeout", `timed out after ${timeoutMs} ms waiting for lock "${name}" (redis key ${key}: ${await _holder(client, key)})`, {
        hint: `another authsome process is holding it; a holder that died or froze lets go within ${ttlMs / 1000} s`,
      });
    }
    // A renewal that fails (outage) is retried at the next tick; one that finds another owner
    // changes nothing here: the write script refuses this holder's writes from then on.
    const timer = setInterval(() => void client.eval(RENEW_SCRIPT, 1, key, owner, ttlMs).catch(() => {}), Math.max(10, Math.floor(ttlMs / 5)));
    return {
      within: (fn) => _held.run([...heldFences(), { key, owner }], fn),
      release: async () => {
        clearInterval(timer);
        // A failed release must not hide fn's outcome: the key expires after one TTL anyway.
        await client.eval(RELEASE_SCRIPT, 1, key, owner).catch(() => {});
      },
    };
  });
}

function _hostName(): string {
  try {
    return hostname();
  } catch {
    return "unknown"; // Deno without --allow-sys
  }
}
