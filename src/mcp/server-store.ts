/**
 * Where a home's MCP servers live. A home's own store (fs, memory): the files of provider.ts, as
 * before. A shared (Redis) store: in the store, so every machine of the fleet knows a server any
 * of them logged in to (issue 14 part 5, as for plugins): the provider plugin written for it goes
 * to the store's plugin records (shared-plugins.ts, sealed there), and the server record to
 * `mcp:<name>`, sealed too: the record maps a URL to a provider, so a record forged by someone
 * with write access to Redis could send one server's token to another. It is an AES-GCM box over
 * the whole record under the default profile's data key (the key that seals plugins, which every
 * machine with access holds), the server's name as associated data. Step-up notes (a server's
 * refusal for want of scope) stay in each home: they are hints for the next login there.
 */
import * as v from "valibot";
import type { AuthService } from "../core/auth-service.ts";
import { sealJson } from "../core/crypto.ts";
import type { ProviderPlugin } from "../core/plugin.ts";
import { parseStored } from "../core/profile-keys.ts";
import { SealedBoxSchema } from "../core/records.ts";
import { openSharedPlugins, pluginSealKeys, type SealKeys } from "../core/shared-plugins.ts";
import type { Store } from "../core/storage/index.ts";
import { resourceCovers } from "./discovery.ts";
import { listServers, type McpServerRecord, readServer, ServerRecordSchema, writeServer, writeServerPlugin } from "./provider.ts";

/** The MCP servers of a home, wherever they are kept. */
export interface McpServers {
  /** Every server, by name; an unreadable record is left out. */
  list(): Promise<McpServerRecord[]>;
  /** One server, or null. */
  read(name: string): Promise<McpServerRecord | null>;
  /** Stores a server record. */
  write(record: McpServerRecord): Promise<void>;
  /** Stores the provider plugin written for a server. */
  writePlugin(plugin: ProviderPlugin, url: string): Promise<void>;
}

const PREFIX = "mcp";
const RecordSchema = v.object({ kind: v.literal("authsome-mcp-server"), version: v.literal(1), box: SealedBoxSchema });
const aad = (name: string): string => `authsome-mcp-server:${name}`;

/** The MCP servers of `service`'s home: in the store when it is shared, else the home's files. */
export async function mcpServersOf(service: AuthService): Promise<McpServers> {
  const home = service.context.home;
  const store = await service.core.store();
  if (store.kind !== "redis") {
    return { list: () => listServers(home), read: (name) => readServer(home, name), write: (record) => writeServer(home, record), writePlugin: (plugin, url) => writeServerPlugin(home, plugin, url) };
  }
  let keys: Promise<SealKeys> | undefined;
  const sealKeys = (): Promise<SealKeys> => (keys ??= pluginSealKeys(service.core));
  // A server this home registered before its store was shared still works here, as its plugin
  // file does (registry.ts): the store's record of the same name wins.
  const read = async (name: string) => (await _readShared(store, name, sealKeys)) ?? (await readServer(home, name));
  return {
    async list() {
      const names = (await store.storage.getKeys(PREFIX)).map((k) => k.slice(PREFIX.length + 1)).filter((n) => n !== "" && !n.includes(":"));
      const found = await Promise.all(names.map((n) => _readShared(store, n, sealKeys).catch(() => null)));
      const shared = found.filter((r): r is McpServerRecord => r !== null);
      const own = (await listServers(home)).filter((r) => !names.includes(r.name));
      return [...shared, ...own].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    },
    read,
    async write(record) {
      const box = await sealJson(await (await sealKeys()).sealKey(), record, aad(record.name));
      await store.storage.setItem(`${PREFIX}:${record.name}`, { kind: "authsome-mcp-server", version: 1, box });
    },
    async writePlugin(plugin, url) {
      const shared = await openSharedPlugins(() => service.core.store(), sealKeys);
      await shared?.write(plugin.name, { $source: `mcp:${url}`, ...plugin });
    },
  };
}

/** A shared server record, opened and checked; null when the store has none. Throws record_invalid / record_tampered. */
async function _readShared(store: Store, name: string, sealKeys: () => Promise<SealKeys>): Promise<McpServerRecord | null> {
  const key = `${PREFIX}:${name}`;
  const stored = await store.storage.getItem(key);
  if (stored === null) return null;
  const what = `MCP server record ${store.locate(key)}`;
  const hint = "log in to the server again: authsome login <url> --force";
  const { box } = parseStored(RecordSchema, stored, what, hint);
  // A record that does not open (forged, or moved from another name) is refused, never used.
  const record = parseStored(ServerRecordSchema, await (await sealKeys()).open(box, aad(name), what), what, hint);
  return record.name === name ? record : null;
}

/** The server whose endpoint is `url` (same URL, or the resource covering it), or null. */
export async function findServerByUrl(servers: McpServers, url: string): Promise<McpServerRecord | null> {
  const want = url.replace(/\/+$/, "");
  const all = await servers.list();
  const target = new URL(url);
  return all.find((s) => s.url.replace(/\/+$/, "") === want) ?? all.find((s) => resourceCovers(s.resource, target)) ?? null;
}
