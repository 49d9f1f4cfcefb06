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
 *
 * Irreversible steps (issue 14, "0 invalid_grant"): a refresh spends its refresh token at the
 * provider, and from then on the rotated one exists only in its memory. A TTL, however well
 * renewed, lapses when the holder or the store pauses longer than it, and the next holder would
 * spend the old token again (the provider then revokes the grant). So before such a step the
 * holder calls {@link holdLocksFor}: one round trip proves it still owns its locks (else
 * `lock_lost`, nothing spent) and lengthens them to cover the step and the store's outage
 * budget, until release. {@link withoutFences} lets the step's result be committed by other
 * means (a compare under the record's own lock) even when the outer lock was lost meanwhile.
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

/** A held lock as its holder's context knows it: the fence, and a way to lengthen it. */
interface HeldFence extends Fence {
  /** Compare-and-extend to `ttlMs` now, and renew at that TTL until release; false if lost. */
  extend(ttlMs: number): Promise<boolean>;
}

const _held = new AsyncLocalStorage<readonly HeldFence[]>();

/** The Redis locks the calling async context holds (the store's writes check them). */
export function heldFences(): readonly Fence[] {
  return (_held.getStore() ?? []).map(({ key, owner }) => ({ key, owner }));
}

/**
 * Before an irreversible step: proves the calling context still owns every Redis lock it holds
 * and keeps each for at least `ttlMs` from now (renewed at that TTL until released). Throws
 * `lock_lost` when one is no longer its own, and `store_unavailable` when the store does not
 * answer; either way the step must not run. A context without Redis locks returns at once.
 */
export async function holdLocksFor(ttlMs: number): Promise<void> {
  for (const fence of _held.getStore() ?? []) {
    if (!(await fence.extend(ttlMs))) {
      throw new AuthsomeError("lock_lost", `this process lost lock ${fence.key} (it paused or was cut off past the lock's TTL) before an irreversible step; nothing was done`, {
        hint: "another process holds the lock now; retry the command",
      });
    }
  }
}

/**
 * Runs `fn` with no lock in its fencing context: its writes are not refused for locks taken
 * outside it (it takes and fences its own). For committing what an irreversible step produced,
 * which must not be thrown away because the outer lock lapsed meanwhile.
 */
export function withoutFences<T>(fn: () => Promise<T>): Promise<T> {
  return _held.run([], fn);
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
    let leaseMs = ttlMs;
    const renew = (): Promise<unknown> => client.eval(RENEW_SCRIPT, 1, key, owner, leaseMs);
    const timer = setInterval(() => void renew().catch(() => {}), Math.max(10, Math.floor(ttlMs / 5)));
    const extend = async (longer: number): Promise<boolean> => {
      leaseMs = Math.max(leaseMs, longer);
      return Number(await renew()) === 1;
    };
    return {
      within: (fn) => _held.run([...(_held.getStore() ?? []), { key, owner, extend }], fn),
      release: async () => {
        clearInterval(timer);
        // A failed release must not hide fn's outcome: the key expires after its TTL anyway
        // (one lease: 10 s, or what holdLocksFor asked for).
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
