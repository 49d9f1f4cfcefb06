/**
 * Small atomic-file helpers for the home directory's own files (master key, daemon address,
 * tokens). Records go through the storage driver instead.
 */
import { mkdirSync, readFileSync, statSync, type Stats } from "node:fs";
import { chmod, link, open, rename, unlink } from "node:fs/promises";
import { dirname } from "node:path";
import { randomToken } from "./crypto.ts";
import { AuthsomeError } from "./errors.ts";
import { dirWriteProblem } from "../runtime/index.ts";

// Deeper than any real home; a bound so a pathological path cannot recurse without end.
const MAX_DEPTH = 128;
const HOME_HINT = "set AUTHSOME_HOME to a directory you can write (default ~/.authsome)";

/** Creates a directory (and parents) with mode 0700; see {@link mkdirBounded}. */
export async function ensurePrivateDir(path: string): Promise<void> {
  await mkdirBounded(path, 0o700);
}

/**
 * `mkdir -p` that always ends. Node 20's `mkdir(path, { recursive: true })` never returns for a
 * path whose parent exists but refuses new entries with ENOENT (`/proc/nope`: measured, 100%
 * CPU until killed); here each level is tried once after its parent. Returns the first
 * directory it created (as recursive mkdir does), or undefined when `path` already existed.
 * Throws storage_failed naming the path. Synchronous calls: a few syscalls, not worth a hop.
 */
export async function mkdirBounded(path: string, mode = 0o700): Promise<string | undefined> {
  return mkdirBoundedSync(path, mode);
}

/** The synchronous {@link mkdirBounded}. */
export function mkdirBoundedSync(path: string, mode = 0o700): string | undefined {
  try {
    return _mkdirLevel(path, mode, 0);
  } catch (error) {
    if (error instanceof AuthsomeError) throw error;
    throw new AuthsomeError("storage_failed", `cannot create directory ${path} (${_reason(error)})`, { cause: error, hint: HOME_HINT });
  }
}

function _mkdirLevel(path: string, mode: number, depth: number): string | undefined {
  const made = _mkdirOnce(path, mode);
  if (made !== "missing parent") return made;
  if (depth >= MAX_DEPTH || dirname(path) === path) throw new AuthsomeError("storage_failed", `cannot create directory ${path}`, { hint: HOME_HINT });
  const first = _mkdirLevel(dirname(path), mode, depth + 1);
  // Once only: ENOENT again with the parent in place means this file system refuses the entry.
  const again = _mkdirOnce(path, mode);
  if (again === "missing parent") throw new AuthsomeError("storage_failed", `cannot create directory ${path} (the file system refuses it)`, { hint: HOME_HINT });
  return first ?? again;
}

function _mkdirOnce(path: string, mode: number): string | undefined | "missing parent" {
  try {
    mkdirSync(path, { mode });
    return path;
  } catch (error) {
    const code = _code(error);
    if (code === "ENOENT") return "missing parent";
    const existing = code === "EEXIST" ? _statSync(path) : "missing";
    if (existing !== "missing" && existing.isDirectory()) return undefined;
    if (code === "EEXIST" || code === "ENOTDIR") throw new AuthsomeError("storage_failed", `cannot create directory ${path}: a file is in the way`, { cause: error, hint: HOME_HINT });
    throw error;
  }
}

/**
 * Makes sure `home` is a usable directory, creating it (0700, bounded) when missing: not a file,
 * not under a file, writable. One stat and one access call when it exists, so start-up does not
 * notice. Throws storage_failed naming the path, at once, instead of a hang or an "unexpected
 * failure" at some later write. Once it exists, recursive mkdirs under it cannot hang either.
 */
export function ensureHome(home: string): void {
  const problem = (path: string, what: string, cause?: unknown): AuthsomeError => new AuthsomeError("storage_failed",
    path === home ? `AUTHSOME_HOME ${home} ${what}` : `AUTHSOME_HOME ${home} cannot be created: ${path} ${what}`, { cause, hint: HOME_HINT });
  let path = home;
  let found = _statSync(path);
  // Find the nearest existing ancestor, to name it when it is a file or read-only.
  for (let depth = 0; found === "missing" && depth < MAX_DEPTH && dirname(path) !== path; depth++) {
    path = dirname(path);
    found = _statSync(path);
  }
  if (found === "missing") throw problem(home, "has no existing parent directory");
  if (!found.isDirectory()) throw problem(path, "is not a directory");
  const notWritable = dirWriteProblem(path);
  if (notWritable !== undefined) throw problem(path, `is not writable (${notWritable})`);
  if (path === home) return;
  try {
    mkdirBoundedSync(home, 0o700);
  } catch (error) {
    throw new AuthsomeError("storage_failed", `AUTHSOME_HOME ${home}: ${error instanceof Error ? error.message : String(error)}`, { cause: error, hint: HOME_HINT });
  }
}

/**
 * Reads a small file of the home as UTF-8, refusing at once what is not a regular file (a FIFO
 * would block the read forever) or is larger than `maxBytes`. ENOENT is passed through as
 * thrown by the read, so callers keep their "missing" handling; the rest is storage_failed.
 * Synchronous underneath, as the store's reads are (storage/fs-driver.ts says why): a key file of
 * the page cache is read in tens of microseconds, a fs/promises read costs four threadpool trips.
 */
export async function readRegularFile(path: string, maxBytes = 1024 * 1024): Promise<string> {
  const found = statSync(path);
  if (!found.isFile()) throw new AuthsomeError("storage_failed", `${path} is not a regular file`, { hint: "move it aside; authsome writes only regular files" });
  if (found.size > maxBytes) throw new AuthsomeError("storage_failed", `${path} is larger than ${Math.round(maxBytes / 1024)} KiB`, { hint: "move it aside" });
  return readFileSync(path, "utf8");
}

/** stat that reports a missing path (or a file in the way, ENOTDIR) as "missing": the walk goes up. */
function _statSync(path: string): Stats | "missing" {
  try {
    return statSync(path);
  } catch (error) {
    const code = _code(error);
    if (code === "ENOENT" || code === "ENOTDIR") return "missing";
    throw new AuthsomeError("storage_failed", `AUTHSOME_HOME: cannot read ${path} (${_reason(error)})`, { cause: error, hint: HOME_HINT });
  }
}

function _code(error: unknown): string | undefined {
  return typeof error === "object" && error !== null && "code" in error && typeof error.code === "string" ? error.code : undefined;
}

function _reason(error: unknown): string {
  return _code(error) ?? (error instanceof Error ? error.message : String(error));
}

async function writeTemp(path: string, data: string | Uint8Array, mode: number): Promise<string> {
  await ensurePrivateDir(dirname(path));
  const temp = `${path}.tmp-${process.pid}-${randomToken(6)}`;
  const handle = await open(temp, "wx", mode);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await chmod(temp, mode);
  return temp;
}

/** Writes a file atomically (temp file, fsync, rename): readers see the old or the new content. */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o600): Promise<void> {
  const temp = await writeTemp(path, data, mode);
  try {
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => {});
    throw error;
  }
}

/**
 * Creates a file with its full content only if it does not exist yet (temp file + link, so a
 * concurrent reader never sees it half-written). Returns false when it already existed.
 */
export async function createFileExclusive(path: string, data: string | Uint8Array, mode = 0o600): Promise<boolean> {
  const temp = await writeTemp(path, data, mode);
  try {
    await link(temp, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  } finally {
    await unlink(temp).catch(() => {});
  }
}
