/**
 * The lockfile backend of {@link Lock}: `<dir>/<name>.lock`, shared by Node and Deno processes
 * on one machine (issue 11, "honest locks").
 *
 * A lockfile appears with its owner already in it: the body (pid, host, process start time,
 * token) is written to a temporary file that is then hard-linked into place, so there is no
 * moment at which a killed creator leaves an empty lock. A lock is stale when its owner is gone:
 * on this host, `kill(pid, 0)` fails or the pid now belongs to a process started at another
 * time (pid reuse); elsewhere, the owner stopped touching it for `staleMs`. A waiter breaks a
 * stale lock at its next poll (<= 50 ms) instead of waiting out an age.
 *
 * Synchronous fs calls on purpose: each is a few microseconds on a local disk, while a
 * fs/promises round trip costs ~200 us of CPU; a `get` takes the audit lock once per process.
 */
import { linkSync, mkdirSync, readFileSync, readlinkSync, statSync, unlinkSync, utimesSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { basename, join } from "node:path";
import * as v from "valibot";
import { AuthsomeError } from "./errors.ts";
import { type Lock, _backoff, _queuedLock, _sleep } from "./lock.ts";

/** Options for {@link createFileLock}. */
export interface FileLockOptions {
  /** A lockfile untouched for this long is abandoned, whatever host wrote it (default 30 000). */
  staleMs?: number;
}

const DEFAULT_STALE_MS = 30_000;
// A lockfile without a readable owner can only come from an older authsome that created the
// file first and wrote its pid after (a microsecond window): half a second is plenty.
const OWNERLESS_STALE_MS = 500;

/** What a lockfile holds (JSON); `token` identifies one acquisition, `start` the owner process. */
const LockFileSchema = v.object({ pid: v.number(), hostname: v.string(), createdAt: v.number(), token: v.string(), start: v.optional(v.string()) });
type LockFileBody = v.InferOutput<typeof LockFileSchema>;

/** A lockfile as read: `body` is undefined when it names no owner (old format, or garbage). */
interface LockFileState {
  body?: LockFileBody;
  mtimeMs: number;
  ino: number;
}

function _errorCode(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null || !("code" in error)) return undefined;
  return typeof error.code === "string" ? error.code : undefined;
}

/**
 * Creates `path` holding `body`, atomically: a temporary file linked into place. False when
 * `path` exists. `link()` never replaces, so exactly one of several creators wins.
 */
function _createAtomic(path: string, body: string, token: string): boolean {
  const temp = `${path}.${token}.tmp`;
  try {
    writeFileSync(temp, body, { mode: 0o600, flag: "wx" });
  } catch (error) {
    if (_errorCode(error) !== "ENOENT") throw error;
    mkdirSync(join(path, ".."), { recursive: true, mode: 0o700 });
    writeFileSync(temp, body, { mode: 0o600, flag: "wx" });
  }
  try {
    linkSync(temp, path);
    return true;
  } catch (error) {
    if (_errorCode(error) === "EEXIST") return false;
    throw error;
  } finally {
    unlinkSync(temp);
  }
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
function _readLockFile(path: string): LockFileState | undefined {
  try {
    const info = statSync(path);
    const body = _parseBody(readFileSync(path, "utf8"));
    return body === undefined ? { mtimeMs: info.mtimeMs, ino: info.ino } : { body, mtimeMs: info.mtimeMs, ino: info.ino };
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
    return (_hostIdCache = `unknown-${crypto.randomUUID()}`);
  }
  let namespace = "";
  try {
    namespace = ` ${readlinkSync("/proc/self/ns/pid")}`;
  } catch {
    // Not Linux, or /proc hidden: the hostname alone has to do.
  }
  return (_hostIdCache = host + namespace);
}

/** A process's start time (clock ticks since boot, /proc/<pid>/stat field 22); undefined off Linux. */
function _startTime(pid: number | "self"): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

let _ownStartCache: string | undefined | null = null;
function _ownStart(): string | undefined {
  if (_ownStartCache === null) _ownStartCache = _startTime("self");
  return _ownStartCache;
}

/** Whether the owner named by `body` (on this host) is gone: dead, or its pid reused. */
function _ownerGone(body: LockFileBody): boolean {
  try {
    process.kill(body.pid, 0);
  } catch (error) {
    // EPERM: alive but another user's. Anything else (Deno without --allow-run throws
    // NotCapable) counts as alive: never break a lock blindly; the stale age still applies.
    return _errorCode(error) === "ESRCH";
  }
  if (body.start === undefined) return false;
  const now = _startTime(body.pid);
  return now !== undefined && now !== body.start;
}

function _isStale(lock: LockFileState, staleMs: number): boolean {
  const age = Date.now() - lock.mtimeMs;
  if (lock.body === undefined) return age > OWNERLESS_STALE_MS;
  if (lock.body.hostname === _hostId() && _ownerGone(lock.body)) return true;
  // Holders touch their file every staleMs/3, so age catches a frozen holder or a dead host.
  return age > staleMs;
}

/** Which acquisition a lockfile is: its token, or for an ownerless file its inode. */
function _identity(lock: LockFileState): string {
  return lock.body?.token ?? `ino-${lock.ino}`;
}

/**
 * Removes the lockfile at `path` if it is stale; true when it did. The breaker first takes a
 * guard named after the stale acquisition (`<path>.break.<token>`), created atomically like a
 * lock, and deletes `path` only if it still holds that acquisition: nobody else can delete it
 * meanwhile (its owner is gone, other breakers need the same guard), and a late breaker finds
 * a new lock there and leaves it alone. A guard whose breaker died is broken the same way.
 */
function _breakIfStale(path: string, staleMs: number, mine: LockFileBody, depth = 0): boolean {
  const seen = _readLockFile(path);
  if (seen === undefined || !_isStale(seen, staleMs)) return false;
  const guard = `${path}.break.${_identity(seen)}`;
  const token = crypto.randomUUID();
  if (!_createAtomic(guard, JSON.stringify({ ...mine, token, createdAt: Date.now() }), token)) {
    if (depth < 3) _breakIfStale(guard, Math.min(staleMs, 5_000), mine, depth + 1);
    return false;
  }
  try {
    const again = _readLockFile(path);
    if (again === undefined || _identity(again) !== _identity(seen)) return false;
    unlinkSync(path);
    return true;
  } finally {
    _unlinkIfOurs(guard, token);
  }
}

/** Deletes the lockfile only while it still carries our token (it may have been broken). */
function _unlinkIfOurs(path: string, token: string): void {
  try {
    if (_readLockFile(path)?.body?.token === token) unlinkSync(path);
  } catch (error) {
    if (_errorCode(error) !== "ENOENT") throw error;
  }
}

/** Keeps a held lockfile fresh by touching it; returns the stop function. */
function _heartbeat(path: string, token: string, staleMs: number): () => void {
  const timer = setInterval(() => {
    try {
      if (_readLockFile(path)?.body?.token === token) utimesSync(path, new Date(), new Date());
    } catch {
      // A failed touch only makes the lock look older; the next tick tries again.
    }
  }, Math.max(10, Math.floor(staleMs / 3)));
  return () => clearInterval(timer);
}

/** The lock_timeout error, naming who holds the lock and since when (never more than that). */
function _timeoutError(name: string, timeoutMs: number, path: string): AuthsomeError {
  let holder = "the lockfile vanished as the wait ended";
  try {
    const state = _readLockFile(path);
    if (state?.body !== undefined) {
      const { pid, hostname: host, createdAt } = state.body;
      const where = host === _hostId() ? "this host" : `host ${host.split(" ")[0]}`;
      holder = `held by pid ${pid} on ${where} since ${new Date(createdAt).toISOString()} (${((Date.now() - createdAt) / 1000).toFixed(1)} s)`;
    } else if (state !== undefined) {
      holder = `held by a lockfile that names no owner, last touched ${new Date(state.mtimeMs).toISOString()}`;
    }
  } catch {
    holder = "the lockfile could not be read";
  }
  return new AuthsomeError("lock_timeout", `timed out after ${timeoutMs} ms waiting for lock "${name}" (${basename(path)}): ${holder}`, {
    hint: "another authsome process is holding it; retry, or stop the process named",
  });
}

/** A lock name as a file name: encoded (so `/` cannot escape `dir`), never hidden or `..`. */
function _fileName(name: string): string {
  if (name === "" || name.startsWith(".") || name.length > 200) {
    throw new AuthsomeError("usage", `invalid lock name ${JSON.stringify(name.slice(0, 120))}`);
  }
  return encodeURIComponent(name);
}

/**
 * A cross-process lock made of lockfiles in `dir` (`<name>.lock`, 0600, created with their
 * owner by link()). Works between Node and Deno processes on one machine.
 */
export function createFileLock(dir: string, options: FileLockOptions = {}): Lock {
  const staleMs = options.staleMs ?? DEFAULT_STALE_MS;
  return _queuedLock(async (name, timeoutMs, deadline) => {
    const path = join(dir, `${_fileName(name)}.lock`);
    const token = crypto.randomUUID();
    const start = _ownStart();
    const owner = (): LockFileBody => ({ pid: process.pid, hostname: _hostId(), createdAt: Date.now(), token, ...(start === undefined ? {} : { start }) });
    for (let attempt = 0; !_createAtomic(path, JSON.stringify(owner()), token); attempt++) {
      if (_breakIfStale(path, staleMs, owner())) continue;
      if (Date.now() >= deadline) throw _timeoutError(name, timeoutMs, path);
      await _sleep(_backoff(attempt, deadline));
    }
    const stop = _heartbeat(path, token, staleMs);
    return {
      release: async () => {
        stop();
        _unlinkIfOurs(path, token);
      },
    };
  });
}
