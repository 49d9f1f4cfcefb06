/**
 * A whole profile's listing in two store reads (issue 14, "a change feed and an index"): the
 * profile's record keys (one index walk on Redis, one directory walk on fs) and every default
 * pointer and connection record at once (one MGET on Redis). `list` used to read each
 * provider's pointer, list its keys and read each connection apart: thousands of round trips
 * for a thousand connections. On fs, where each record is a file, unchanged records come from a
 * listing cache instead (storage/listing-cache.ts): one `stat` per record, no read, no parse.
 * Metadata only; nothing here decrypts.
 */
import type { Storage } from "unstorage";
import type { AuthsomeError } from "./errors.ts";
import { createHash } from "node:crypto";
import { parseStored } from "./profile-keys.ts";
import { type ConnectionMeta, ProviderStateSchema, StoredRecordSchema } from "./records.ts";
import { parseStorageKey } from "./storage/fs-driver.ts";
import { type ListingCache, listingCacheOf, type RecordStamp, sameStamp } from "./storage/listing-cache.ts";
import { isDamage, type ProviderSnapshot } from "./vault.ts";

/** One connection as listed: its metadata, or why its record could not be read. */
export interface ListedConnection {
  name: string;
  meta?: ConnectionMeta;
  damage?: AuthsomeError;
}

/** A profile's default pointers and connection metadata, as read at one moment. */
export interface ProfileOverview {
  /** The provider's default pointer (as `Vault.readProvider` reads it). */
  provider(name: string): ProviderSnapshot;
  /** The provider's connections, sorted by name. */
  connections(provider: string): ListedConnection[];
}

/** Where a record lives, for messages (`Vault.locate`). */
type Locate = (...parts: string[]) => string;

/** Reads a default pointer record; a damaged one is returned as `damage`, not thrown (issue 11). */
export function providerSnapshot(stored: unknown, provider: string, locate: Locate): ProviderSnapshot {
  if (stored === null || stored === undefined) return { defaultConnection: undefined };
  const what = `the default pointer of ${provider} (${locate("prov", provider)})`;
  const hint = `other connections still work with --connection NAME; set it again with \`authsome default ${provider} <connection>\`, or move it aside with \`authsome doctor --repair\``;
  try {
    return { defaultConnection: parseStored(ProviderStateSchema, stored, what, hint).defaultConnection };
  } catch (error) {
    if (isDamage(error)) return { defaultConnection: undefined, damage: error };
    throw error;
  }
}

function _connection(stored: unknown, provider: string, name: string, locate: Locate): ListedConnection {
  try {
    return { name, meta: parseStored(StoredRecordSchema, stored, `connection ${provider}/${name} (${locate("conn", provider, name)})`).meta };
  } catch (error) {
    if (isDamage(error)) return { name, damage: error };
    throw error;
  }
}

/** What a listing takes from one record (relative key `conn:<provider>:<name>` or `prov:<provider>`). */
type Listed = { kind: "conn"; provider: string; connection: ListedConnection } | { kind: "prov"; provider: string; snapshot: ProviderSnapshot };
/** A cached entry: the record's stamp, then its metadata (conn) or default connection (prov). */
type CachedEntry = [stamp: RecordStamp, value: ConnectionMeta | string | null];

const LISTED_KEY = /^(conn:[^:]+:[^:]+|prov:[^:]+)$/;
const CACHE_HEADER = "authsome-listing 2 ";

/** Whether a file found on disk names a valid key (else it is no record: fs-driver.ts skips it too). */
function _isKey(key: string): boolean {
  try {
    return parseStorageKey(key).length > 0;
  } catch {
    return false;
  }
}

function _parse(name: string, stored: unknown, locate: Locate): Listed {
  const [kind, provider = "", connection = ""] = name.split(":");
  if (kind === "prov") return { kind, provider, snapshot: providerSnapshot(stored, provider, locate) };
  return { kind: "conn", provider, connection: _connection(stored, provider, connection, locate) };
}

function _fromCache(name: string, [, value]: CachedEntry): Listed {
  const [kind, provider = "", connection = ""] = name.split(":");
  if (kind === "prov") return { kind, provider, snapshot: { defaultConnection: typeof value === "string" ? value : undefined } };
  return { kind: "conn", provider, connection: { name: connection, meta: value as ConnectionMeta } };
}

/** The entry to cache for a freshly parsed record; damaged records are not cached (read every time). */
function _toCache(stamp: RecordStamp, listed: Listed): CachedEntry | undefined {
  if (listed.kind === "prov") return listed.snapshot.damage === undefined ? [stamp, listed.snapshot.defaultConnection ?? null] : undefined;
  return listed.connection.meta === undefined ? undefined : [stamp, listed.connection.meta];
}

/** Synchronous (node:crypto, as audit-chain.ts): WebCrypto's digest costs ~2 ms more here per `list`. */
function _sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** The cached entries of `profile`; a missing, torn or edited cache (its hash fails) is empty. */
function _loadCache(cache: ListingCache, profile: string): Map<string, CachedEntry> {
  const text = cache.load(profile);
  const newline = text?.indexOf("\n") ?? -1;
  if (text === null || !text.startsWith(CACHE_HEADER) || newline < 0) return new Map();
  const body = text.slice(newline + 1);
  if (text.slice(CACHE_HEADER.length, newline) !== _sha256(body)) return new Map();
  try {
    const parsed = JSON.parse(body) as { profile?: unknown; entries?: unknown };
    if (parsed.profile !== profile || typeof parsed.entries !== "object" || parsed.entries === null) return new Map();
    return new Map(Object.entries(parsed.entries as Record<string, CachedEntry>));
  } catch {
    return new Map();
  }
}

async function _saveCache(cache: ListingCache, profile: string, entries: Map<string, CachedEntry>): Promise<void> {
  const body = JSON.stringify({ profile, entries: Object.fromEntries(entries) });
  // Best effort: a store this user may read but not write still lists, from the records.
  await cache.save(profile, `${CACHE_HEADER}${_sha256(body)}\n${body}`).catch(() => {});
}

/**
 * Whether to rewrite the cache: when first built, and then only once enough of it is out of date.
 * Rewriting costs ~20-30 ms for a thousand connections (serialise, hash, fsync), and one changed
 * connection (a refresh) would otherwise cost that on the next `list` twice (once while its file
 * is racy, once after); reading a few changed records apart costs well under a millisecond.
 */
function _worthSaving(saved: number, kept: number, fresh: number, unread: number, listed: number): boolean {
  if (fresh === 0 && kept === saved) return false;
  return saved === 0 || Math.max(saved - kept, unread) > Math.max(8, listed >> 5);
}

/**
 * Each listed record of `profile`, parsed; on a store with a listing cache (fs), unchanged records
 * come from the cache (storage/listing-cache.ts says why that is never stale) and the rest are
 * read, then cached.
 */
async function _listAll(storage: Storage, profile: string, locate: Locate): Promise<Listed[]> {
  const prefix = `p:${profile}:`;
  const cache = listingCacheOf(storage);
  // Stamps before reads: see listing-cache.ts.
  const stamps = cache?.stamps(profile);
  const names = stamps !== undefined ? [...stamps.keys()] : (await storage.getKeys(`p:${profile}`)).map((key) => key.slice(prefix.length)).filter((name) => LISTED_KEY.test(name));
  const saved = cache === undefined ? new Map<string, CachedEntry>() : _loadCache(cache, profile);
  const kept = new Map<string, CachedEntry>();
  const unread: string[] = [];
  for (const name of names) {
    const hit = saved.get(name);
    if (hit !== undefined && sameStamp(hit[0], stamps?.get(name))) kept.set(name, hit);
    // Names from the disk (stamps) may not be keys; the store's own keys are (and are checked again on read).
    else if (stamps === undefined || _isKey(prefix + name)) unread.push(name);
  }
  const listed = [...kept].map(([name, entry]) => _fromCache(name, entry));
  let fresh = 0;
  const items = unread.length === 0 ? [] : await storage.getItems(unread.map((name) => prefix + name));
  for (const { key, value } of items) {
    // A record removed between the two reads is simply not listed.
    if (value === null) continue;
    const name = key.slice(prefix.length);
    const one = _parse(name, value, locate);
    listed.push(one);
    const stamp = stamps?.get(name);
    const entry = stamp === undefined ? undefined : _toCache(stamp, one);
    if (entry !== undefined) (kept.set(name, entry), fresh++);
  }
  if (cache !== undefined && _worthSaving(saved.size, kept.size, fresh, unread.length, names.length)) await _saveCache(cache, profile, kept);
  return listed;
}

/** Reads the overview of `profile` from `storage`. */
export async function readOverview(storage: Storage, profile: string, locate: Locate): Promise<ProfileOverview> {
  const pointers = new Map<string, ProviderSnapshot>();
  const connections = new Map<string, ListedConnection[]>();
  for (const one of await _listAll(storage, profile, locate)) {
    if (one.kind === "prov") pointers.set(one.provider, one.snapshot);
    else {
      const list = connections.get(one.provider) ?? [];
      list.push(one.connection);
      connections.set(one.provider, list);
    }
  }
  return {
    provider: (name) => pointers.get(name) ?? { defaultConnection: undefined },
    connections: (provider) => [...(connections.get(provider) ?? [])].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
  };
}
