/**
 * Named mutual exclusion around read-modify-write sequences on the store.
 *
 * Three implementations share one contract: in-process (memory store), lockfiles (fs store;
 * several Node and Deno processes on one machine) and Redis (a store shared by machines).
 * A holder keeps its lock alive while `fn` runs (lockfile mtime / Redis TTL refreshed), so
 * only a dead or frozen holder's lock is ever broken.
 */
import { readlinkSync } from "node:fs";
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

/** What a lockfile holds (JSON); `token` identifies one acquisition. */
const LockFileSchema = v.object({ pid: v.number(), hostname: v.string(), createdAt: v.number(), token: v.string() });
type LockFileBody = v.InferOutput<typeof LockFileSchema>;

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

let _hostIdCache: string | undefined;

/**
 * Who can judge our pids: the hostname plus, on Linux, the pid namespace. Containers often
 * share a hostname and a mounted home but not pids; a pid from another namespace would look dead.
 */
function _hostId(): string {
  if (_hostIdCache !== undefined) return _hostIdCache;
  let host: string;
  try {
    host = hostname();
  } catch {
    // Deno without --allow-sys: a per-process id, so our pids are never judged (age only).
    return (_hostIdCache = `unknown-${_token()}`);
  }
  let namespace = "";
  try {
    namespace = ` ${readlinkSync("/proc/self/ns/pid")}`;
  } catch {
    // Not Linux, or /proc hidden: the hostname alone has to do.
  }
  return (_hostIdCache = host + namespace);
}

function _pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive but another user's. Anything else (Deno without --allow-run throws
    // NotCapable) counts as alive: never break a lock blindly; the stale age still applies.
    return _errorCode(error) !== "ESRCH";
  }
}

function _isStale(lock: LockFileState, staleMs: number): boolean {
  if (lock.body !== undefined && lock.body.hostname === _hostId() && !_pidAlive(lock.body.pid)) return true;
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

/** A lock held by one backend, once this process's own queue has let the caller through. */
interface HeldLock {
  release(): Promise<void>;
}

/**
 * Wraps a cross-process `acquire` in an in-process queue per name, so a process never
 * contends with itself (and never polls a lockfile against its own other callers).
 */
function _queuedLock(acquire: (name: string, timeoutMs: number, deadline: number) => Promise<HeldLock>): Lock {
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

/**
 * A cross-process lock made of lockfiles in `dir` (`<name>.lock`, created 0600 with
 * `open(wx)`). Works between Node and Deno processes on one machine.
 */
export function createFileLock(dir: string, options: FileLockOptions = {}): Lock {
  const staleMs = options.staleMs ?? DEFAULT_STALE_MS;
  return _queuedLock(async (name, timeoutMs, deadline) => {
    const path = join(dir, `${_fileName(name)}.lock`);
    const breakPath = path.replace(/\.lock$/, ".break");
    const token = _token();
    const body = JSON.stringify({ pid: process.pid, hostname: _hostId(), createdAt: Date.now(), token });
    await mkdirPrivate(dir);
    for (let attempt = 0; !(await _tryCreate(path, body)); attempt++) {
      if (await _breakIfStale(path, breakPath, staleMs, body)) continue;
      if (Date.now() >= deadline) throw _timeoutError(name, timeoutMs, path);
      await _sleep(_backoff(attempt, deadline));
    }
    const stop = _heartbeat(path, token, staleMs);
    return {
      release: async () => {
        stop();
        await _releaseFile(path, token);
      },
    };
  });
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

/** Polls `SET key token NX PX ttl` until it succeeds or the deadline passes. */
async function _redisAcquire(client: RedisLockClient, key: string, ttlMs: number, deadline: number): Promise<string | undefined> {
  const token = _token();
  for (let attempt = 0; ; attempt++) {
    try {
      if ((await client.set(key, token, "PX", ttlMs, "NX")) === "OK") return token;
    } catch (error) {
      throw new AuthsomeError("storage_failed", `redis failed while taking lock key "${key}"`, { cause: error });
    }
    if (Date.now() >= deadline) return undefined;
    await _sleep(_backoff(attempt, deadline));
  }
}

/** A lock shared by every process using one Redis server (`SET NX PX` + Lua release). */
export function createRedisLock(client: RedisLockClient, options: RedisLockOptions = {}): Lock {
  const ttlMs = options.ttlMs ?? DEFAULT_STALE_MS;
  const prefix = options.prefix ?? "authsome-lock:";
  return _queuedLock(async (name, timeoutMs, deadline) => {
    const key = prefix + name;
    const token = await _redisAcquire(client, key, ttlMs, deadline);
    if (token === undefined) throw _timeoutError(name, timeoutMs, `redis key ${key}`);
    const timer = setInterval(() => {
      void client.eval(REFRESH_SCRIPT, 1, key, token, ttlMs).catch(() => {});
    }, Math.max(10, Math.floor(ttlMs / 3)));
    return {
      release: async () => {
        clearInterval(timer);
        // A failed release must not hide fn's outcome: the key expires after ttlMs anyway.
        await client.eval(RELEASE_SCRIPT, 1, key, token).catch(() => {});
      },
    };
  });
}
