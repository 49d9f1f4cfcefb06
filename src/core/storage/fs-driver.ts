/**
 * An unstorage driver that keeps one file per key, written atomically and privately.
 *
 * unstorage's own `fs` driver truncates and rewrites files in place (readers see empty or
 * partial values, a kill -9 leaves a broken record) and creates world-readable files
 * (stack-notes.md). Here every write goes to a unique temp file in the target directory,
 * is fsynced, then renamed over the record, so a reader or a crash sees the old or the new
 * value, never a mix. Files are 0600 and directories 0700.
 *
 * Reads are synchronous, writes asynchronous. A record is a few hundred bytes in the page cache:
 * `readFileSync` costs 10-40 us here, while fs/promises costs ~200 us of CPU plus a round trip
 * through libuv's threadpool per call (stack-notes.md), so a `get` spent more time waiting than
 * reading, and the daemon's event loop is blocked for less time by the sync read than by the async
 * bookkeeping. Writes fsync (milliseconds on a real disk) and stay off the event loop.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { chmod, open, rename, rm } from "node:fs/promises";
import { join, relative, resolve, sep } from "node:path";
import type { Driver, StorageMeta } from "unstorage";
import { AuthsomeError } from "../errors.ts";
import { mkdirBounded } from "../files.ts";

/** Options for {@link createFsDriver}. */
export interface FsDriverOptions {
  /** Directory holding the records; created (0700) on first write. */
  base: string;
}

/** Suffix of record files: lets key `a` (file `a.rec`) and key `a:b` (dir `a/`) coexist. */
export const RECORD_SUFFIX = ".rec";
/** Characters allowed in one key segment; a segment never starts with `.` (temp files do). */
const SEGMENT_PATTERN = /^[A-Za-z0-9_@+=$-][A-Za-z0-9_.@+=$-]*$/;
const MAX_SEGMENT_LENGTH = 200;
const MAX_KEY_LENGTH = 1024;

function _segmentProblem(segment: string): string | undefined {
  if (segment === "") return "has an empty segment";
  if (segment === "." || segment === "..") return `has a "${segment}" segment`;
  if (segment.length > MAX_SEGMENT_LENGTH) return `has a segment longer than ${MAX_SEGMENT_LENGTH} characters`;
  if (!SEGMENT_PATTERN.test(segment)) {
    return "may only contain letters, digits and - _ . @ + = $ (not starting with .) between ':'";
  }
  if (segment.endsWith(RECORD_SUFFIX)) return `has a segment ending in "${RECORD_SUFFIX}"`;
  return undefined;
}

/** Whether `name` (one directory entry) may be a key segment: the rule {@link parseStorageKey} applies. */
export function isKeySegment(name: string): boolean {
  return _segmentProblem(name) === undefined;
}

/**
 * Checks a storage key and returns its `:`-separated segments.
 *
 * The same rules apply to every driver (see `createStore`), so code that works on the
 * memory store works on disk: no key can name a path outside the store.
 * @throws AuthsomeError `usage` naming the key and the rule it breaks.
 */
export function parseStorageKey(key: string): string[] {
  const segments = key.split(":");
  const problem =
    key.length > MAX_KEY_LENGTH
      ? `is longer than ${MAX_KEY_LENGTH} characters`
      : segments.map(_segmentProblem).find((p) => p !== undefined);
  if (problem !== undefined) {
    // A key is a name (profile, provider, connection), never a secret: safe to show.
    throw new AuthsomeError("usage", `invalid storage key ${JSON.stringify(key.slice(0, 120))}: it ${problem}`);
  }
  return segments;
}

/** Segments of a `getKeys`/`clear` base: unstorage passes `a:b:` or nothing. */
function _parseBase(base: string | undefined): string[] {
  const trimmed = (base ?? "").replace(/:+$/, "");
  return trimmed === "" ? [] : parseStorageKey(trimmed);
}

function _errorCode(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null || !("code" in error)) return undefined;
  return typeof error.code === "string" ? error.code : undefined;
}

function _isMissing(error: unknown): boolean {
  const code = _errorCode(error);
  return code === "ENOENT" || code === "ENOTDIR";
}

function _randomSuffix(): string {
  return crypto.randomUUID().replaceAll("-", "").slice(0, 16);
}

/** fsyncs a directory so a rename survives power loss; some platforms cannot open dirs. */
async function _syncDir(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, "r");
    await handle.sync();
  } catch (error) {
    const code = _errorCode(error);
    if (code !== "EISDIR" && code !== "EPERM" && code !== "EINVAL" && code !== "EBADF" && code !== "EACCES") {
      throw error;
    }
  } finally {
    await handle?.close();
  }
}

/**
 * Creates `dir` and missing parents as 0700. mkdir's mode is masked by the umask, so the
 * directories this call created are chmod-ed too (existing ones are left as the user set them).
 */
export async function mkdirPrivate(dir: string): Promise<void> {
  // Bounded (files.ts): Node's recursive mkdir never returns for a parent like /proc.
  const first = await mkdirBounded(dir, 0o700);
  if (first === undefined) return;
  let current = first;
  await chmod(current, 0o700);
  for (const part of relative(first, dir).split(sep).filter((p) => p !== "")) {
    current = join(current, part);
    await chmod(current, 0o700);
  }
}

/** Writes `value` to `dir/fileName` through a fsynced temp file and a rename (0600). */
export async function writeFileAtomic(dir: string, fileName: string, value: string): Promise<void> {
  await mkdirPrivate(dir);
  // Starts with "." so getKeys never lists it; pid helps a human spot a crashed writer's leftovers.
  const temp = join(dir, `.${fileName}.${process.pid}.${_randomSuffix()}.tmp`);
  try {
    const handle = await open(temp, "wx", 0o600);
    try {
      await handle.chmod(0o600);
      await handle.writeFile(value, "utf8");
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, join(dir, fileName));
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  await _syncDir(dir);
}

/** Appends every record key below `dir` (whose key segments are `prefix`) to `out`. */
function _walk(dir: string, prefix: string[], out: string[]): void {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (error) {
    if (_isMissing(error)) return;
    throw error;
  }
  for (const entry of entries) {
    // Temp files and anything hidden start with "."; symlinks are neither file nor dir here.
    if (entry.name.startsWith(".")) continue;
    if (entry.isDirectory()) {
      if (_segmentProblem(entry.name) === undefined) _walk(join(dir, entry.name), [...prefix, entry.name], out);
    } else if (entry.isFile() && entry.name.endsWith(RECORD_SUFFIX)) {
      const segment = entry.name.slice(0, -RECORD_SUFFIX.length);
      if (_segmentProblem(segment) === undefined) out.push([...prefix, segment].join(":"));
    }
  }
}

/**
 * Creates the atomic file driver rooted at `options.base`.
 *
 * Key `a:b:c` is stored in `<base>/a/b/c.rec`. Read-modify-write sequences still need a
 * lock around them (see `createFileLock`): the driver makes single writes atomic only.
 */
export function createFsDriver(options: FsDriverOptions): Driver<FsDriverOptions> {
  const base = resolve(options.base);

  const locate = (key: string): { dir: string; file: string } => {
    const segments = parseStorageKey(key);
    const last = segments.pop() ?? "";
    return { dir: join(base, ...segments), file: last + RECORD_SUFFIX };
  };

  const fail = (action: string, key: string, cause: unknown): AuthsomeError =>
    cause instanceof AuthsomeError
      ? cause
      : new AuthsomeError("storage_failed", `cannot ${action} storage key "${key}" in ${base}`, {
          cause,
          hint: `check that ${base} exists and is writable by this user`,
        });

  const listKeys = (prefix: string | undefined): string[] => {
    const segments = _parseBase(prefix);
    const keys: string[] = [];
    _walk(join(base, ...segments), segments, keys);
    return keys;
  };

  const read = (key: string): string | null => {
    const { dir, file } = locate(key);
    try {
      return readFileSync(join(dir, file), "utf8");
    } catch (error) {
      if (_isMissing(error)) return null;
      throw fail("read", key, error);
    }
  };

  return {
    name: "authsome-fs",
    options,
    hasItem(key) {
      const { dir, file } = locate(key);
      try {
        return statSync(join(dir, file)).isFile();
      } catch (error) {
        if (_isMissing(error)) return false;
        throw fail("check", key, error);
      }
    },
    getItem: read,
    // One synchronous pass for a whole listing (`list` reads a profile at once): no promise per record.
    getItems: (items) => items.map(({ key }) => ({ key, value: read(key) })),
    getMeta(key): StorageMeta | null {
      const { dir, file } = locate(key);
      try {
        const info = statSync(join(dir, file));
        return { atime: info.atime, mtime: info.mtime, size: info.size };
      } catch (error) {
        if (_isMissing(error)) return null;
        throw fail("stat", key, error);
      }
    },
    async setItem(key, value) {
      const { dir, file } = locate(key);
      try {
        await writeFileAtomic(dir, file, value);
      } catch (error) {
        throw fail("write", key, error);
      }
    },
    async removeItem(key) {
      const { dir, file } = locate(key);
      try {
        await rm(join(dir, file), { force: true });
        await _syncDir(dir).catch((error: unknown) => {
          if (!_isMissing(error)) throw error;
        });
      } catch (error) {
        throw fail("remove", key, error);
      }
    },
    getKeys(prefix) {
      try {
        return listKeys(prefix);
      } catch (error) {
        throw fail("list", prefix ?? "", error);
      }
    },
    async clear(prefix) {
      // Record by record, not `rm -r`: a concurrent writer's temp file must survive.
      try {
        for (const key of listKeys(prefix)) {
          const { dir, file } = locate(key);
          await rm(join(dir, file), { force: true });
        }
      } catch (error) {
        throw fail("clear", prefix ?? "", error);
      }
    },
    dispose() {
      // Nothing held open between calls.
    },
  };
}
