/**
 * A cache of what `list` derives from a profile's records (connection metadata, default
 * pointers), for the fs store: reading a thousand record files, parsing each and checking it with
 * valibot is what made `list` grow with the store (issue 14; Redis reads them in one MGET). The
 * cache is never trusted over the records:
 *
 * - every listed record is `stat`ed first, and a cached entry is used only while the file's
 *   stamp (inode, size, mtime, ctime) is the one it was cached with. An atomic write gives the
 *   file a new inode (the temp file is created while the old one still exists) and an in-place
 *   edit a new mtime and ctime, so any change, from any process or tool, is seen;
 * - a file whose mtime is within {@link RACY_MS} of now is never cached (git's "racy clean"
 *   rule): with coarse timestamps, a change in the same tick would otherwise keep the stamp;
 * - the stat comes before the read: a change between the two files newer content under the older
 *   stamp, which the next listing finds stale; never older content under the newer stamp;
 * - the file is written atomically (temp file + rename, 0600) and carries a SHA-256 of its body:
 *   a torn, edited or foreign file is ignored and rebuilt.
 *
 * It holds metadata only, the same fields a record shows in clear; no secret is ever in it.
 */
import { lstatSync, readdirSync, readFileSync, type Stats } from "node:fs";
import { join } from "node:path";
import type { Storage } from "unstorage";
import { isKeySegment, RECORD_SUFFIX, writeFileAtomic } from "./fs-driver.ts";

/** Files changed this recently (ms) are read, never cached: coarse clocks (FAT: 2 s). */
export const RACY_MS = 3000;

/** A record file's change stamp: inode, size, mtime (ms), ctime (ms). Numbers, not a string: building one per record cost ~3 ms a `list`. */
export type RecordStamp = readonly [ino: number, size: number, mtimeMs: number, ctimeMs: number];

/** A change stamp per listed record key (relative to the profile, e.g. `conn:openai:work`). */
export type RecordStamps = Map<string, RecordStamp | undefined>;

/** Whether `cached` (read back from the cache file: any shape) is the stamp `current`. */
export function sameStamp(cached: unknown, current: RecordStamp | undefined): boolean {
  if (current === undefined || !Array.isArray(cached) || cached.length !== 4) return false;
  return cached[0] === current[0] && cached[1] === current[1] && cached[2] === current[2] && cached[3] === current[3];
}

/** What a store offers to cache derived listings. @internal */
export interface ListingCache {
  /**
   * The profile's `conn:*:*` and `prov:*` record files with their stamps (undefined: do not cache).
   * Names are as found on disk: check them (parseStorageKey) before reading one.
   */
  stamps(profile: string): RecordStamps;
  /** The cached text for `profile`, or null. */
  load(profile: string): string | null;
  /** Replaces the cached text for `profile` (atomically). */
  save(profile: string, text: string): Promise<void>;
}

const caches = new WeakMap<Storage, ListingCache>();

/** Registers `cache` for `storage` (the fs store does), so every Vault over it finds it. @internal */
export function attachListingCache(storage: Storage, cache: ListingCache): void {
  caches.set(storage, cache);
}

/** The listing cache of `storage`, if its backend has one. @internal */
export function listingCacheOf(storage: Storage): ListingCache | undefined {
  return caches.get(storage);
}

function _entries(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return []; // missing (no connections yet) or unreadable: the record reads will say which
  }
}

/**
 * lstat, as the fs driver's key walk (which lists no symlink as a record); no options object, whose
 * parsing costs as much as the call here. Undefined for a file removed since the directory was read.
 */
function _lstat(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

/**
 * Stamps of the `.rec` files in `dir`, filed under `prefix` + their key segment. This runs once
 * per record on every `list` (cold code, a thousand times): plain string work, no path.join, and
 * key segments are checked by the caller only for records it reads.
 */
function _stampFiles(dir: string, prefix: string, now: number, out: RecordStamps): void {
  for (const name of _entries(dir)) {
    if (!name.endsWith(RECORD_SUFFIX) || name.startsWith(".")) continue;
    const info = _lstat(`${dir}/${name}`);
    if (info === undefined || !info.isFile()) continue;
    const racy = info.mtimeMs > now - RACY_MS;
    out.set(prefix + name.slice(0, -RECORD_SUFFIX.length), racy ? undefined : [info.ino, info.size, info.mtimeMs, info.ctimeMs]);
  }
}

/** The listing cache of the fs store rooted at `base`; its files live in `<base>/.cache`. */
export function createFsListingCache(base: string): ListingCache {
  const dir = join(base, ".cache");
  const file = (profile: string) => `listing-${profile}.json`;
  return {
    stamps(profile) {
      const root = join(base, "p", profile);
      const out: RecordStamps = new Map();
      const now = Date.now();
      _stampFiles(join(root, "prov"), "prov:", now, out);
      for (const provider of _entries(join(root, "conn"))) {
        if (isKeySegment(provider)) _stampFiles(join(root, "conn", provider), `conn:${provider}:`, now, out);
      }
      return out;
    },
    load(profile) {
      try {
        return readFileSync(join(dir, file(profile)), "utf8");
      } catch {
        return null;
      }
    },
    save: (profile, text) => writeFileAtomic(dir, file(profile), text),
  };
}
