/**
 * A whole profile's listing in two store reads (issue 14, "a change feed and an index"): the
 * profile's record keys (one index walk on Redis, one directory walk on fs) and every default
 * pointer and connection record at once (one MGET on Redis). `list` used to read each
 * provider's pointer, list its keys and read each connection apart: thousands of round trips
 * for a thousand connections. Metadata only; nothing here decrypts.
 */
import type { Storage } from "unstorage";
import type { AuthsomeError } from "./errors.ts";
import { parseStored } from "./profile-keys.ts";
import { type ConnectionMeta, ProviderStateSchema, StoredRecordSchema } from "./records.ts";
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

/** Reads the overview of `profile` from `storage`. */
export async function readOverview(storage: Storage, profile: string, locate: Locate): Promise<ProfileOverview> {
  const prefix = `p:${profile}:`;
  const keys = (await storage.getKeys(`p:${profile}`)).filter((key) => /^(conn:[^:]+:[^:]+|prov:[^:]+)$/.test(key.slice(prefix.length)));
  const items = keys.length === 0 ? [] : await storage.getItems(keys);
  const pointers = new Map<string, unknown>();
  const connections = new Map<string, ListedConnection[]>();
  for (const { key, value } of items) {
    const [kind, provider = "", name = ""] = key.slice(prefix.length).split(":");
    // A record removed between the two reads is simply not listed.
    if (value === null) continue;
    if (kind === "prov") pointers.set(provider, value);
    else {
      const list = connections.get(provider) ?? [];
      list.push(_connection(value, provider, name, locate));
      connections.set(provider, list);
    }
  }
  return {
    provider: (name) => providerSnapshot(pointers.get(name) ?? null, name, locate),
    connections: (provider) => [...(connections.get(provider) ?? [])].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
  };
}
