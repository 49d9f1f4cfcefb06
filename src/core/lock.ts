/**
 * Named mutual exclusion around read-modify-write sequences on the store.
 *
 * Three implementations share one contract: in-process (memory store), lockfiles (fs store;
 * several Node and Deno processes on one machine) and Redis (a store shared by machines).
 * A holder keeps its lock alive while `fn` runs (lockfile mtime / Redis TTL refreshed), so
 * only a dead or frozen holder's lock is ever broken.
 */
import { open, readFile, rm, stat, utimes } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import * as v from "valibot";
import { AuthsomeError } from "./errors.ts";
import { mkdirPrivate } from "./storage/fs-driver.ts";

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

function _sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polling delay: 2 ms growing to 50 ms, jittered so waiters do not retry in lockstep. */
function _backoff(attempt: number, deadline: number): number {
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

/** Options for {@link createFileLock}. */
export interface FileLockOptions {
  /** A lockfile untouched for this long is abandoned, whatever host wrote it (default 30 000). */
  staleMs?: number;
}

/** What a lockfile holds (JSON); `token` identifies one acquisition. */
interface LockFileBody {
  pid: number;
  hostname: string;
  createdAt: number;
  token: string;
}

function _errorCode(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null || !("code" in error)) return undefined;
  return typeof error.code === "string" ? error.code : undefined;
}

/** Creates `path` exclusively with `body`; false when it already exists. */
async function _tryCreate(path: string, body: string): Promise<boolean> {
  let handle;
  try {
    handle = await open(path, "wx", 0o600);
  } catch (error) {
    if (_errorCode(error) === "EEXIST") return false;
    throw error;
  }
  let written = false;
  try {
    await handle.writeFile(body, "utf8");
    written = true;
  } finally {
    await handle.close();
    if (!written) await rm(path, { force: true });
  }
  return true;
}

const LockFileSchema = v.object({ pid: v.number(), hostname: v.string(), createdAt: v.number(), token: v.string() });

/** A lockfile as read: `body` is undefined while its creator has not written it (or crashed). */
interface LockFileState {
  body?: LockFileBody;
  mtimeMs: number;
}

function _parseBody(text: string): LockFileBody | undefined {
  try {
    const result = v.safeParse(LockFileSchema, JSON.parse(text));
    return result.success ? result.output : undefined;
  } catch {
    return undefined;
  }
}

/** Reads a lockfile; undefined when there is none. */
async function _readLockFile(path: string): Promise<LockFileState | undefined> {
  try {
    const [text, info] = await Promise.all([readFile(path, "utf8"), stat(path)]);
    const body = _parseBody(text);
    return body === undefined ? { mtimeMs: info.mtimeMs } : { body, mtimeMs: info.mtimeMs };
  } catch (error) {
    if (_errorCode(error) === "ENOENT") return undefined;
    throw error;
  }
}

function _pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive but another user's; anything unexpected counts as alive (never break blindly).
    return _errorCode(error) !== "ESRCH";
  }
}

function _isStale(lock: LockFileState, staleMs: number): boolean {
  if (lock.body !== undefined && lock.body.hostname === hostname() && !_pidAlive(lock.body.pid)) return true;
  // Holders touch their file every staleMs/3, so age also catches a reused pid or a dead host.
  return Date.now() - lock.mtimeMs > staleMs;
}

/**
 * Removes the lockfile at `path` if it is stale. Breakers are serialised by a second
 * lockfile (`.break`) and re-check staleness while holding it, so two waiters can never both
 * delete a lock (one of them a fresh, live one). Breaking does not grant the lock: everyone
 * then competes through `open(wx)` again.
 */
async function _breakIfStale(path: string, breakPath: string, staleMs: number, body: string): Promise<boolean> {
  const seen = await _readLockFile(path);
  if (seen === undefined || !_isStale(seen, staleMs)) return false;
  if (!(await _tryCreate(breakPath, body))) {
    // A breaker killed inside this millisecond-long section must not block everyone forever.
    const breaker = await _readLockFile(breakPath);
    if (breaker !== undefined && _isStale(breaker, Math.min(staleMs, 5_000))) await rm(breakPath, { force: true });
    return false;
  }
  try {
    const again = await _readLockFile(path);
    if (again === undefined || !_isStale(again, staleMs)) return false;
    await rm(path, { force: true });
    return true;
  } finally {
    await rm(breakPath, { force: true });
  }
}

/** Deletes the lockfile only while it still carries our token (it may have been broken). */
async function _releaseFile(path: string, token: string): Promise<void> {
  const current = await _readLockFile(path);
  if (current?.body?.token === token) await rm(path, { force: true });
}

/** Keeps a held lockfile fresh by touching it; returns the stop function. */
function _heartbeat(path: string, token: string, staleMs: number): () => void {
  const timer = setInterval(() => {
    void _readLockFile(path)
      .then((current) => (current?.body?.token === token ? utimes(path, new Date(), new Date()) : undefined))
      .catch(() => {});
  }, Math.max(10, Math.floor(staleMs / 3)));
  return () => clearInterval(timer);
}

/**
 * A cross-process lock made of lockfiles in `dir` (`<name>.lock`, created 0600 with
 * `open(wx)`). Works between Node and Deno processes on one machine; within one process,
 * callers queue in memory first so the process never contends with itself.
 */
export function createFileLock(dir: string, options: FileLockOptions = {}): Lock {
  const staleMs = options.staleMs ?? DEFAULT_STALE_MS;
  const local = createMemoryLock();
  const acquire = async (name: string, path: string, timeoutMs: number, deadline: number): Promise<string> => {
    const token = _token();
    const body = JSON.stringify({ pid: process.pid, hostname: hostname(), createdAt: Date.now(), token });
    const breakPath = path.replace(/\.lock$/, ".break");
    for (let attempt = 0; ; attempt++) {
      if (await _tryCreate(path, body)) return token;
      if (await _breakIfStale(path, breakPath, staleMs, body)) continue;
      if (Date.now() >= deadline) throw _timeoutError(name, timeoutMs, path);
      await _sleep(_backoff(attempt, deadline));
    }
  };
  return {
    async withLock(name, fn, lockOptions) {
      const timeoutMs = lockOptions?.timeoutMs ?? DEFAULT_TIMEOUT_MS;
      const deadline = Date.now() + timeoutMs;
      const path = join(dir, `${_fileName(name)}.lock`);
      return local.withLock(
        name,
        async () => {
          await mkdirPrivate(dir);
          const token = await acquire(name, path, timeoutMs, deadline);
          const stop = _heartbeat(path, token, staleMs);
          try {
            return await fn();
          } finally {
            stop();
            await _releaseFile(path, token);
          }
        },
        { timeoutMs },
      );
    },
  };
}

/** A lock name as a file name: encoded (so `/` cannot escape `dir`), never hidden or `..`. */
function _fileName(name: string): string {
  if (name === "" || name.startsWith(".") || name.length > 200) {
    throw new AuthsomeError("usage", `invalid lock name ${JSON.stringify(name.slice(0, 120))}`);
  }
  return encodeURIComponent(name);
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

/** A lock shared by every process using one Redis server (`SET NX PX` + Lua release). */
export function createRedisLock(client: RedisLockClient, options: RedisLockOptions = {}): Lock {
  const ttlMs = options.ttlMs ?? DEFAULT_STALE_MS;
  const prefix = options.prefix ?? "authsome-lock:";
  const local = createMemoryLock();
  const acquire = async (key: string, name: string, timeoutMs: number, deadline: number): Promise<string> => {
    const token = _token();
    for (let attempt = 0; ; attempt++) {
      if ((await client.set(key, token, "PX", ttlMs, "NX")) === "OK") return token;
      if (Date.now() >= deadline) throw _timeoutError(name, timeoutMs, `redis key ${key}`);
      await _sleep(_backoff(attempt, deadline));
    }
  };
  return {
    async withLock(name, fn, lockOptions) {
      const timeoutMs = lockOptions?.timeoutMs ?? DEFAULT_TIMEOUT_MS;
      const deadline = Date.now() + timeoutMs;
      const key = prefix + name;
      return local.withLock(
        name,
        async () => {
          const token = await _storageCall(name, () => acquire(key, name, timeoutMs, deadline));
          const timer = setInterval(() => {
            void client.eval(REFRESH_SCRIPT, 1, key, token, ttlMs).catch(() => {});
          }, Math.max(10, Math.floor(ttlMs / 3)));
          try {
            return await fn();
          } finally {
            clearInterval(timer);
            await _storageCall(name, () => client.eval(RELEASE_SCRIPT, 1, key, token));
          }
        },
        { timeoutMs },
      );
    },
  };
}

/** Turns a Redis failure into `storage_failed` (lock errors pass through). */
async function _storageCall<T>(name: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof AuthsomeError) throw error;
    throw new AuthsomeError("storage_failed", `redis failed while handling lock "${name}"`, { cause: error });
  }
}
