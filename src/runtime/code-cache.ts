/**
 * Runs one of the CLI's merged scripts (scripts/merge-chunks.mjs) compiled with a V8 code
 * cache. Node 20 keeps no compiled code of ES modules between runs, and compiling the ~210 KB a
 * `get` loads, then each function it calls on first use, was the largest part left of its
 * start-up. The cache is made at exit, so it holds the bytecode of every function the run
 * compiled; the next run skips both compilations.
 *
 * The cache lives in the user's cache directory: never in the package (often read-only, and
 * shared by every user of a global install) nor in a shared temporary directory, since a cache
 * is code this process runs. It is used only from a directory this user owns that no one else
 * can write. A script's name carries a hash of its content, and the cache's name that name,
 * the script's size and time and V8's version; V8 itself refuses a cache made for another
 * version or set of flags, and that run compiles as usual and writes a new one. A cache that
 * cannot be read or written, or whose digest does not match, is skipped: it only ever saves time.
 * `AUTHSOME_CODE_CACHE=0` (or false, no, off) turns it off. Deno (whose node:vm takes V8
 * caches as well) runs the same path.
 */
import type * as Crypto from "node:crypto";
import type * as Fs from "node:fs";
import { createRequire } from "node:module";
import type * as Path from "node:path";
import type * as Url from "node:url";
import type * as Vm from "node:vm";

/** Largest cache read back (a `get` leaves ~0.4 MB for the two scripts). */
const MAX_CACHE_BYTES = 32 << 20;
/** Caches kept in the directory; the oldest go when a write passes this (old installs' ones). */
const MAX_CACHES = 16;

interface Builtins {
  fs: typeof Fs;
  path: typeof Path;
  crypto: () => typeof Crypto;
}

/** The user's cache directory for these, or undefined when there is none. */
function cacheDir({ path }: Builtins, env: NodeJS.ProcessEnv): string | undefined {
  if (/^(0|false|no|off)$/i.test(env.AUTHSOME_CODE_CACHE ?? "")) return undefined;
  const home = env.HOME || env.USERPROFILE;
  const base = env.XDG_CACHE_HOME || (process.platform === "win32" ? env.LOCALAPPDATA : home && path.join(home, process.platform === "darwin" ? "Library/Caches" : ".cache"));
  return base && path.isAbsolute(base) ? path.join(base, "authsome", "v8") : undefined;
}

/** True when `dir` is this user's and writable by no one else (POSIX; Windows has no such bits). */
function trusted({ fs }: Builtins, dir: string): boolean {
  if (process.getuid === undefined) return true;
  const st = fs.statSync(dir);
  return st.isDirectory() && st.uid === process.getuid() && (st.mode & 0o022) === 0;
}

/** SHA-256 of the cache, kept before it in its file. */
const digest = (b: Builtins, data: Uint8Array): Buffer => b.crypto().createHash("sha256").update(data).digest();

/**
 * The cache, when whole. Its digest is checked here because V8 does not always check one: a
 * damaged cache made Deno 2.9's V8 abort ("unreachable code") where Node 20's refused it.
 */
function readCache(b: Builtins, dir: string, file: string): Buffer | undefined {
  try {
    if (!trusted(b, dir)) return undefined;
    const fd = b.fs.openSync(file, "r");
    let stored: Buffer;
    try {
      if (b.fs.fstatSync(fd).size > MAX_CACHE_BYTES) return undefined;
      stored = b.fs.readFileSync(fd);
    } finally {
      b.fs.closeSync(fd);
    }
    const data = stored.subarray(32);
    return stored.length > 32 && digest(b, data).equals(stored.subarray(0, 32)) ? data : undefined;
  } catch {
    return undefined;
  }
}

/** Writes the cache atomically (a torn file would only be refused, but is never left). */
function writeCache(b: Builtins, dir: string, file: string, data: Buffer): void {
  try {
    b.fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (!trusted(b, dir)) return;
    const tmp = `${file}.${process.pid}.tmp`;
    b.fs.writeFileSync(tmp, Buffer.concat([digest(b, data), data]), { mode: 0o600 });
    b.fs.renameSync(tmp, file);
    const names = b.fs.readdirSync(dir).filter((n) => n.endsWith(".bin"));
    if (names.length <= MAX_CACHES) return;
    const byAge = names.map((n) => ({ n, t: b.fs.statSync(b.path.join(dir, n)).mtimeMs })).sort((x, y) => x.t - y.t);
    for (const { n } of byAge.slice(0, names.length - MAX_CACHES)) b.fs.rmSync(b.path.join(dir, n), { force: true });
  } catch {
    // No cache this time.
  }
}

/**
 * Runs the script at `url` (scripts/merge-script.mjs made it: a function of its imports that
 * returns its exports) and returns its exports. `deps` are its relative imports, loaded by the
 * calling ES module (so every file shares their instances); builtins are their CommonJS objects
 * (an ES import of node:fs builds a facade that loads every stream module); its dynamic imports
 * and `import.meta.url` resolve against its own URL, among the chunks.
 */
export function runCached(url: string, deps: Record<string, unknown>): Record<string, unknown> {
  // process.getBuiltinModule (Node 20.16+, Deno) first: a createRequire costs ~0.3 ms.
  let nodeRequire: NodeJS.Require | undefined;
  const builtin = <T>(id: string): T => (process.getBuiltinModule?.(id) ?? (nodeRequire ??= createRequire(url))(id)) as T;
  const b: Builtins = { fs: builtin("node:fs"), path: builtin("node:path"), crypto: () => builtin("node:crypto") };
  const file = builtin<typeof Url>("node:url").fileURLToPath(url);
  // The build checks that the script is ASCII, so latin1 reads it as it is, without decoding.
  const source = b.fs.readFileSync(file, "latin1");
  const dir = cacheDir(b, process.env);
  const st = b.fs.statSync(file);
  const cacheFile = b.path.join(dir ?? "", `${b.path.basename(file)}-${st.size}-${Math.trunc(st.mtimeMs)}-${process.versions.v8}.bin`);
  const cachedData = dir === undefined ? undefined : readCache(b, dir, cacheFile);
  const vm = builtin<typeof Vm>("node:vm");
  const script = new vm.Script(source, { filename: file, ...(cachedData ? { cachedData } : {}) });
  if (dir !== undefined && (cachedData === undefined || script.cachedDataRejected === true)) {
    // At exit, so that the cache holds every function this run compiled, not only the top level.
    process.once("exit", () => writeCache(b, dir, cacheFile, script.createCachedData()));
  }
  const need = (id: string): unknown => (id.startsWith(".") ? (deps[id] ?? missing(id)) : id.startsWith("node:") ? builtin(id) : (nodeRequire ??= createRequire(url))(id));
  // The script stands where its chunks are: its relative imports and import.meta.url are its own.
  const load = (spec: string): Promise<unknown> => import(spec.startsWith(".") ? new URL(spec, url).href : spec);
  return script.runInThisContext()(need, load, { url });
}

// A plain Error: this file is bundled into each merged module on its own, and a copy of
// core/errors.ts there would be a second AuthsomeError class. Only a broken build gets here.
function missing(id: string): never {
  throw new Error(`authsome build: ${id} is not among the merged script's imports`);
}
