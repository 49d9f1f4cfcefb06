/**
 * Named mutual exclusion around read-modify-write sequences on the store.
 *
 * Three implementations share one contract: in-process (memory store), lockfiles (fs store;
 * several Node and Deno processes on one machine; src/core/lock-file.ts) and Redis (a store
 * shared by machines). A holder keeps its lock alive while `fn` runs (lockfile mtime / Redis
 * TTL refreshed), so only a dead or frozen holder's lock is ever broken, and a wait that runs
 * out names the holder. Redis locks are also fenced (src/core/lock-redis.ts).
 */
import { AuthsomeError } from "./errors.ts";

export { createFileLock, type FileLockOptions } from "./lock-file.ts";
export { createRedisLock, heldFences, holdLocksFor, withoutFences, type Fence, type RedisLockClient, type RedisLockOptions } from "./lock-redis.ts";

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
  /** Runs the holder's function in a context that knows the lock (the Redis lock's fencing). */
  within?<T>(fn: () => Promise<T>): Promise<T>;
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
          return await (held.within === undefined ? fn() : held.within(fn));
        } finally {
          await held.release();
        }
      };
      return local.withLock(name, run, { timeoutMs });
    },
  };
}
