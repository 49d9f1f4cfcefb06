/**
 * Named mutual exclusion around read-modify-write sequences on the store.
 *
 * Three implementations share one contract: in-process (memory store), lockfiles (fs store;
 * several Node and Deno processes on one machine; src/core/lock-file.ts) and Redis (a store
 * shared by machines). A holder keeps its lock alive while `fn` runs (lockfile mtime / Redis
 * TTL refreshed), so only a dead or frozen holder's lock is ever broken, and a wait that runs
 * out names the holder.
 */
import { hostname } from "node:os";
import { AuthsomeError } from "./errors.ts";

export { createFileLock, type FileLockOptions } from "./lock-file.ts";

/** Options for one {@link Lock.withLock} call. */
export interface LockOptions {
  /** Give up waiting after this many milliseconds (default 10 000) with `lock_timeout`. */
  timeoutMs?: number;
}

/** Runs functions under named locks; same-name calls never overlap. */
export interface Lock {
  /** Waits for the lock `name`, runs `fn`, releases the lock even when `fn` throws. */
  withLock<T>(name: string, fn: () => Promise<T>, options?: LockOptions): Promise<T>;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_STALE_MS = 30_000;

function _timeoutError(name: string, timeoutMs: number, where: string): AuthsomeError {
  return new AuthsomeError("lock_timeout", `timed out after ${timeoutMs} ms waiting for lock "${name}" (${where})`, {
    hint: "another authsome process is holding it; retry, or stop the process that hangs",
  });
}

/** Waits `ms` (the polling step of the cross-process backends). */
export function _sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polling delay: 2 ms growing to 50 ms, jittered so waiters do not retry in lockstep. */
export function _backoff(attempt: number, deadline: number): number {
  const base = Math.min(50, 2 * 1.5 ** attempt);
  return Math.max(1, Math.min(base / 2 + Math.random() * base, deadline - Date.now()));
}

function _token(): string {
  return crypto.randomUUID();
}

/** Waits for `previous` to settle, or rejects with lock_timeout after `timeoutMs`. */
async function _waitTurn(previous: Promise<void>, timeoutMs: number, name: string): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(_timeoutError(name, timeoutMs, "in this process")), Math.max(0, timeoutMs));
  });
  try {
    await Promise.race([previous, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** An in-process lock: one promise queue per name. */
export function createMemoryLock(): Lock {
  const tails = new Map<string, Promise<void>>();
  return {
    async withLock(name, fn, options) {
      const previous = tails.get(name) ?? Promise.resolve();
      let release = (): void => {};
      const done = new Promise<void>((resolve) => (release = resolve));
      const tail = previous.then(() => done);
      tails.set(name, tail);
      const finish = (): void => {
        release();
        if (tails.get(name) === tail) tails.delete(name);
      };
      try {
        await _waitTurn(previous, options?.timeoutMs ?? DEFAULT_TIMEOUT_MS, name);
      } catch (error) {
        // Our slot is already queued: let it pass through once the holder before us is done.
        void previous.then(finish);
        throw error;
      }
      try {
        return await fn();
      } finally {
        finish();
      }
    },
  };
}

/** A lock held by one backend, once this process's own queue has let the caller through. */
export interface HeldLock {
  release(): Promise<void>;
}

/**
 * Wraps a cross-process `acquire` in an in-process queue per name, so a process never
 * contends with itself (and never polls a lockfile against its own other callers).
 */
export function _queuedLock(acquire: (name: string, timeoutMs: number, deadline: number) => Promise<HeldLock>): Lock {
  const local = createMemoryLock();
  return {
    async withLock(name, fn, options) {
      const timeoutMs = options?.timeoutMs ?? DEFAULT_TIMEOUT_MS;
      const deadline = Date.now() + timeoutMs;
      const run = async (): Promise<Awaited<ReturnType<typeof fn>>> => {
        const held = await acquire(name, timeoutMs, deadline);
        try {
          return await fn();
        } finally {
          await held.release();
        }
      };
      return local.withLock(name, run, { timeoutMs });
    },
  };
}

/** The two Redis commands the lock needs; an ioredis client satisfies it. */
export interface RedisLockClient {
  set(key: string, value: string, px: "PX", milliseconds: number, nx: "NX"): Promise<"OK" | null>;
  eval(script: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>;
}

/** Options for {@link createRedisLock}. */
export interface RedisLockOptions {
  /** Lock expiry in Redis, refreshed every ttlMs/3 while `fn` runs (default 30 000). */
  ttlMs?: number;
  /** Key prefix; kept apart from the store's own `authsome:` keys (default `authsome-lock:`). */
  prefix?: string;
}

// Compare-and-delete / compare-and-extend: never touch a lock another holder now owns.
const RELEASE_SCRIPT = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) else return 0 end`;
const REFRESH_SCRIPT = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("pexpire", KEYS[1], ARGV[2]) else return 0 end`;

/** Polls `SET key value NX PX ttl` until it succeeds or the deadline passes. */
async function _redisAcquire(client: RedisLockClient, key: string, value: string, ttlMs: number, deadline: number): Promise<boolean> {
  for (let attempt = 0; ; attempt++) {
    try {
      if ((await client.set(key, value, "PX", ttlMs, "NX")) === "OK") return true;
    } catch (error) {
      throw new AuthsomeError("storage_failed", `redis failed while taking lock key "${key}"`, { cause: error });
    }
    if (Date.now() >= deadline) return false;
    await _sleep(_backoff(attempt, deadline));
  }
}

/** Who holds a Redis lock, from the value its holder set (pid, host, since). */
async function _redisHolder(client: RedisLockClient, key: string): Promise<string> {
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

/** A lock shared by every process using one Redis server (`SET NX PX` + Lua release). */
export function createRedisLock(client: RedisLockClient, options: RedisLockOptions = {}): Lock {
  const ttlMs = options.ttlMs ?? DEFAULT_STALE_MS;
  const prefix = options.prefix ?? "authsome-lock:";
  return _queuedLock(async (name, timeoutMs, deadline) => {
    const key = prefix + name;
    // The value is unique per acquisition (the token) and names the holder for a waiter's error.
    const value = JSON.stringify({ token: _token(), pid: process.pid, host: _hostName(), since: Date.now() });
    if (!(await _redisAcquire(client, key, value, ttlMs, deadline))) {
      throw _timeoutError(name, timeoutMs, `redis key ${key}: ${await _redisHolder(client, key)}`);
    }
    const timer = setInterval(() => {
      void client.eval(REFRESH_SCRIPT, 1, key, value, ttlMs).catch(() => {});
    }, Math.max(10, Math.floor(ttlMs / 3)));
    return {
      release: async () => {
        clearInterval(timer);
        // A failed release must not hide fn's outcome: the key expires after ttlMs anyway.
        await client.eval(RELEASE_SCRIPT, 1, key, value).catch(() => {});
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
