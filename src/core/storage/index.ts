/**
 * Opens the store selected by `AUTHSOME_STORAGE`: an unstorage instance plus the lock that
 * matches it (lockfiles beside an fs store, in-process for memory, Redis keys for Redis).
 */
import { mkdirSync, watch } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { createStorage, hasDotSegment, normalizeBaseKey } from "unstorage";
import type { Driver, GetKeysOptions, Storage } from "unstorage";
import memoryDriver from "unstorage/drivers/memory";
import * as v from "valibot";
import { AuthsomeError } from "../errors.ts";
import { createFileLock, createMemoryLock } from "../lock.ts";
import type { Lock } from "../lock.ts";
import { createFsDriver, parseStorageKey } from "./fs-driver.ts";
import { attachListingCache, createFsListingCache } from "./listing-cache.ts";
import type { RedisHandle } from "./redis.ts";

/** An open store: records, the lock guarding their read-modify-write, and how to describe it. */
export interface Store {
  /** Records; keys are `:`-separated names checked by {@link parseStorageKey}. */
  storage: Storage;
  /** Lock for read-modify-write sequences; shared with every process using the same store. */
  lock: Lock;
  /** Which backend this is. */
  kind: "fs" | "memory" | "redis";
  /** Human-readable location for `authsome whoami`; never contains a password. */
  description: string;
  /** Closes connections (Redis) and releases resources. */
  dispose(): Promise<void>;
  /** Where a record lives, for messages: its file in an fs store, else the key and the store. */
  locate(key: string): string;
  /**
   * Calls `onChange` after any record of this store changes, in this process or another, and
   * `onLost` if watching stops working; returns a function that stops watching. Absent where the
   * backend cannot tell (callers then read every time).
   */
  watchChanges?(onChange: () => void, onLost: () => void): () => void;
  /** The Redis connection, for the fleet audit log (Redis stores only). @internal */
  redis?: RedisHandle;
}

/** Options for {@link createStore}. */
export interface CreateStoreOptions {
  /** The authsome home (`AUTHSOME_HOME`); the default fs store lives in `<home>/store`. */
  home: string;
  /** The value of `AUTHSOME_STORAGE`; undefined or empty means `fs`. */
  spec?: string | undefined;
}

const ACCEPTED_FORMS =
  'accepted forms: "fs" (default, under the home), "fs:/absolute/path", "memory", ' +
  '"redis://[user:password@]host[:port][/db]", "rediss://..." or ' +
  '"redis+sentinel://[user:password@]sentinel[:port][/name[/db]][?sentinel=host:port...]"';

function _redisUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === "redis:" || url.protocol === "rediss:" || url.protocol === "redis+sentinel:") && url.hostname !== "";
  } catch {
    return false;
  }
}

const SpecSchema = v.union([
  v.literal("fs"),
  v.literal("memory"),
  v.pipe(
    v.string(),
    v.startsWith("fs:"),
    v.check((value) => isAbsolute(value.slice(3)), "fs: needs an absolute path"),
  ),
  v.pipe(v.string(), v.check(_redisUrl, "not a redis://, rediss:// or redis+sentinel:// URL")),
]);

/** The spec's scheme alone, for error messages: the rest may hold a password. */
function _schemeOf(spec: string): string {
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]{0,15}:/.exec(spec)?.[0];
  return scheme === undefined ? "" : ` (starting with "${scheme}")`;
}

/** A redis URL with any password removed. */
export function redactUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.password !== "") parsed.password = "***";
  return parsed.toString();
}

/**
 * Wraps a third-party driver so every backend enforces the fs driver's key rules (a key
 * that works in memory works on disk) and reports failures as `storage_failed`. unstorage's
 * memory driver also ignores the base in `clear(base)` and would wipe everything.
 */
function _guardDriver(driver: Driver, description: string): Driver {
  const call = async <T>(action: string, key: string, run: () => T | Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (error) {
      if (error instanceof AuthsomeError) throw error;
      throw new AuthsomeError("storage_failed", `cannot ${action} storage key "${key}" in ${description}`, {
        cause: error,
      });
    }
  };
  const listKeys = async (base: string | undefined, opts: GetKeysOptions): Promise<string[]> => {
    const trimmed = (base ?? "").replace(/:+$/, "");
    if (trimmed === "") return call("list", "", () => driver.getKeys("", opts));
    parseStorageKey(trimmed);
    const keys = await call("list", trimmed, () => driver.getKeys(`${trimmed}:`, opts));
    return keys.filter((key) => key.startsWith(`${trimmed}:`));
  };
  return {
    name: driver.name,
    hasItem: (key, opts) => (parseStorageKey(key), call("check", key, () => driver.hasItem(key, opts))),
    getItem: (key, opts) => (parseStorageKey(key), call("read", key, () => driver.getItem(key, opts))),
    // One round trip for many records where the backend can (Redis MGET): `list` reads a profile at once.
    getItems: (items, opts) => {
      for (const { key } of items) parseStorageKey(key);
      if (driver.getItems !== undefined) return call("read", items[0]?.key ?? "", () => driver.getItems?.(items, opts) ?? []);
      return Promise.all(items.map(({ key, options }) => call("read", key, async () => ({ key, value: await driver.getItem(key, options) }))));
    },
    setItem: (key, value, opts) => (parseStorageKey(key), call("write", key, () => driver.setItem?.(key, value, opts))),
    removeItem: (key, opts) => (parseStorageKey(key), call("remove", key, () => driver.removeItem?.(key, opts))),
    getKeys: (base, opts) => listKeys(base, opts),
    async clear(base, opts) {
      for (const key of await listKeys(base, opts)) await call("clear", key, () => driver.removeItem?.(key, opts));
    },
    dispose: () => call("close", "", () => driver.dispose?.()),
  };
}

/**
 * unstorage 1.17's `clear(base)` only visits mounts *below* `base`, so with one root mount it
 * silently deletes nothing (unjs/unstorage#336). Route it to the driver, which scopes by base.
 */
function _storageOver(driver: Driver): Storage {
  const storage = createStorage({ driver });
  storage.clear = async (base, opts = {}) => {
    const normalized = normalizeBaseKey(base);
    if (hasDotSegment(normalized)) parseStorageKey(normalized.slice(0, -1));
    await driver.clear?.(normalized, opts);
  };
  return storage;
}

/** Opens the fs store at `dir`, with its lockfiles in `lockDir`. */
function _fsStore(dir: string, lockDir: string): Store {
  const storage = _storageOver(createFsDriver({ base: dir }));
  attachListingCache(storage, createFsListingCache(dir));
  return {
    storage,
    lock: createFileLock(lockDir),
    kind: "fs",
    description: `fs:${dir}`,
    dispose: () => storage.dispose(),
    locate: (key) => `${join(dir, ...parseStorageKey(key))}.rec`,
    watchChanges: (onChange, onLost) => _watchDir(dir, onChange, onLost),
  };
}

/**
 * inotify (recursive) on the store's folder: every atomic write ends in a rename it reports.
 * The listing cache (`.cache/`, derived from records) is no change: `list` must not wake every
 * daemon and proxy into re-reading the store.
 */
function _watchDir(dir: string, onChange: () => void, onLost: () => void): () => void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const watcher = watch(dir, { recursive: true, persistent: false }, (_event, name) => {
    if (typeof name !== "string" || !name.startsWith(".cache")) onChange();
  });
  watcher.on("error", () => onLost());
  return () => watcher.close();
}

function _memoryStore(): Store {
  const storage = _storageOver(_guardDriver(memoryDriver(), "memory"));
  return { storage, lock: createMemoryLock(), kind: "memory", description: "memory", dispose: () => storage.dispose(), locate: (key) => `record ${key} (memory)` };
}

/** Loaded lazily: ioredis is heavy and most runs never touch Redis. */
async function _redisStore(url: string): Promise<Store> {
  const { openRedisStore } = await import("./redis.ts");
  return openRedisStore(url, (driver, description) => _storageOver(_guardDriver(driver, description)));
}

/**
 * Opens the store named by `spec` (`AUTHSOME_STORAGE`).
 * @throws AuthsomeError `usage` when the spec is not one of the accepted forms.
 */
export async function createStore(options: CreateStoreOptions): Promise<Store> {
  const spec = options.spec === undefined || options.spec === "" ? "fs" : options.spec;
  const parsed = v.safeParse(SpecSchema, spec);
  if (!parsed.success) {
    // Never echo the spec itself: a mistyped Redis URL still carries its password.
    throw new AuthsomeError("usage", `AUTHSOME_STORAGE${_schemeOf(spec)} is not valid; ${ACCEPTED_FORMS}`);
  }
  const home = resolve(options.home);
  if (spec === "memory") return _memoryStore();
  if (spec === "fs") return _fsStore(join(home, "store"), join(home, "locks"));
  if (spec.startsWith("fs:")) {
    const dir = resolve(spec.slice(3));
    return _fsStore(dir, `${dir}.locks`);
  }
  return _redisStore(spec);
}
