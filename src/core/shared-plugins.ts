/**
 * Provider plugins kept in a shared (Redis) store, so every machine of a fleet sees the plugins
 * any of them added (issue 14 part 5). One record per plugin, `plugins:<name>`: the validated
 * definition exactly as `providers add` writes a home's `<home>/plugins/<name>.json`, plus, for a
 * .ts/.js module plugin, the module's source text and its SHA-256 (what the definition was made
 * from, for review; nothing runs it again: the definition was produced once, in the sandbox child
 * at `providers add`, as for a home's plugin).
 *
 * A record is third-party data: it is size-bounded, parsed and validated here exactly as a
 * plugin file is (plugin-v1.ts, plugin-schema.ts), and a bad one is refused with one line naming
 * the record and the field. It is also sealed: a plugin says where credentials go, so a record
 * that anyone with write access to Redis could forge would turn that access (which otherwise
 * meets only ciphertext) into reading every machine's secrets. `seal` is an AES-GCM box, under
 * the default profile's data key (which every machine with access holds), over the record's
 * SHA-256, with the plugin's name as associated data; a record that does not open is refused.
 *
 * Rule when a home's own plugin file and the store disagree: the store wins (every machine
 * injects by the same rules) and `doctor` names the home file it shadows.
 */
import * as v from "valibot";
import type { ProviderPlugin } from "./plugin.ts";
import { sealJson, sha256Hex, unsealJson } from "./crypto.ts";
import { AuthsomeError } from "./errors.ts";
import { MAX_PLUGIN_BYTES, PLUGIN_NAME_PATTERN, pluginError } from "./plugin-schema.ts";
import { SealedBoxSchema } from "./records.ts";
import { ProfileKeys } from "./profile-keys.ts";
import type { ServiceCore } from "./service.ts";
import { loadPluginJson } from "./plugin-v1.ts";
import { prepareRegexEngine } from "./rule-regex.ts";
import type { Store } from "./storage/index.ts";

/** The largest record: a definition and a module source of at most 1 MiB each, plus the envelope. */
const MAX_RECORD_BYTES = 2 * MAX_PLUGIN_BYTES + 4096;
const PREFIX = "plugins";

const RecordSchema = v.strictObject({
  kind: v.literal("authsome-plugin"),
  version: v.literal(1),
  name: v.string(),
  definition: v.record(v.string(), v.unknown()),
  module: v.optional(v.strictObject({
    sha256: v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/, "expected 64 lowercase hex digits")),
    source: v.pipe(v.string(), v.maxLength(MAX_PLUGIN_BYTES, "longer than 1 MiB")),
  })),
  added_at: v.pipe(v.string(), v.isoTimestamp("expected an ISO timestamp")),
  seal: SealedBoxSchema,
});
const SealSchema = v.strictObject({ name: v.string(), sha256: v.string() });

/** A plugin read from the store, with the content hash of the module it was made from. */
export interface SharedPlugin {
  plugin: ProviderPlugin;
  /** SHA-256 (hex) of the module source, for module plugins. */
  moduleSha256?: string;
}

/** The keys seals are made and opened with: the default profile's (profile-keys.ts), both during a re-encryption. */
export interface SealKeys {
  /** Opens a box with the current data key, or a re-encryption's new one. */
  open(box: v.InferOutput<typeof SealedBoxSchema>, aad: string, what: string): Promise<unknown>;
  /** The key new seals are made with (a re-encryption's new one when under way). */
  sealKey(): Promise<CryptoKey>;
}

/** The shared plugins of one store. */
export interface SharedPlugins {
  /** Where a plugin's record lives, for messages. */
  locate(name: string): string;
  /** Every record name under `plugins:` (one store round trip, the store's index); not all need be valid names. */
  names(): Promise<string[]>;
  /** One plugin, validated; null when the store has none of that name. Throws plugin_invalid. */
  read(name: string): Promise<SharedPlugin | null>;
  /** Several plugins in one store round trip; each validated on its own (a refusal hides only itself). */
  readMany(names: string[]): Promise<{ name: string; plugin?: SharedPlugin; error?: unknown }[]>;
  /** Stores a validated plugin (`definition` is what a home's plugin file would hold). */
  write(name: string, definition: Record<string, unknown>, moduleSource?: string): Promise<void>;
  /** Removes a plugin's record; false when there was none. */
  remove(name: string): Promise<boolean>;
  /** Runs `fn` under the store's lock for plugin records (a check, then a write). */
  withLock<T>(fn: () => Promise<T>): Promise<T>;
}

/**
 * The shared plugins of the store `open` gives, or null when that store is not shared (fs and
 * memory stores keep plugins in each home, as before).
 */
export async function openSharedPlugins(open: () => Promise<Store>, sealKeys: (() => Promise<SealKeys>) | undefined): Promise<SharedPlugins | null> {
  const store = await open();
  if (store.kind !== "redis") return null;
  let keys: Promise<SealKeys> | undefined;
  const fleetKey = (): Promise<SealKeys> => (keys ??= sealKeys?.() ?? Promise.reject(new AuthsomeError("internal", "a registry over a shared store needs the key that seals its plugins")));
  const { storage } = store;
  const key = (name: string): string => `${PREFIX}:${name}`;
  const locate = (name: string): string => store.locate(key(name));
  return {
    locate,
    async names() {
      return (await storage.getKeys(PREFIX)).map((k) => k.slice(PREFIX.length + 1)).filter((n) => n !== "" && !n.includes(":"));
    },
    async read(name) {
      // Raw text: the size bound comes before any parsing.
      const raw = await storage.getItemRaw(key(name));
      return raw === null || raw === undefined ? null : await _parseRecord(raw, name, locate(name), fleetKey);
    },
    async readMany(names) {
      // A key no plugin could have (written straight into Redis) is refused without reading it.
      const valid = names.filter((n) => PLUGIN_NAME_PATTERN.test(n));
      // The seal's key records are read while the plugin records are (it is memoized; a failure surfaces per record).
      if (valid.length > 0) void fleetKey().catch(() => undefined);
      const raws = new Map((await _rawValues(storage, valid.map(key))).map((raw, i) => [valid[i], raw]));
      return Promise.all(names.map(async (name) => {
        if (!raws.has(name)) return { name, error: pluginError(`record plugins:${JSON.stringify(name.slice(0, 80))} in ${store.description}`, "name", "not a plugin name (lowercase letters, digits, - and _, at most 64)") };
        const raw = raws.get(name);
        if (raw === null || raw === undefined) return { name };
        try {
          return { name, plugin: await _parseRecord(raw, name, locate(name), fleetKey) };
        } catch (error) {
          return { name, error };
        }
      }));
    },
    async write(name, definition, moduleSource) {
      const module = moduleSource === undefined ? undefined : { sha256: await sha256Hex(moduleSource), source: moduleSource };
      const body = { kind: "authsome-plugin", version: 1, name, definition, ...(module === undefined ? {} : { module }), added_at: new Date().toISOString() };
      const seal = await sealJson(await (await fleetKey()).sealKey(), { name, sha256: await sha256Hex(_canonical(body)) }, _sealAad(name));
      const text = JSON.stringify({ ...body, seal });
      if (text.length > MAX_RECORD_BYTES) throw pluginError(name, "", `larger than ${MAX_RECORD_BYTES >> 10} KiB with its module source; nothing was installed`);
      await storage.setItem(key(name), text);
    },
    async remove(name) {
      if (!(await storage.hasItem(key(name)))) return false;
      await storage.removeItem(key(name));
      return true;
    },
    withLock: (fn) => store.lock.withLock("plugins", fn),
  };
}

/**
 * The stored texts of `keys`, unparsed (the size bound comes before any parsing), in one MGET
 * where the driver can: `storage.getItems` would hand them back already parsed.
 */
async function _rawValues(storage: Store["storage"], keys: string[]): Promise<unknown[]> {
  if (keys.length === 0) return [];
  const { driver } = storage.getMount(keys[0]);
  if (driver.getItems === undefined) return Promise.all(keys.map((k) => storage.getItemRaw(k)));
  const found = new Map((await driver.getItems(keys.map((k) => ({ key: k })), {})).map((r) => [r.key, r.value]));
  return keys.map((k) => found.get(k) ?? null);
}

/** Validates a stored record as a plugin file is validated; every refusal names the record and field. */
async function _parseRecord(raw: unknown, name: string, source: string, fleetKey: () => Promise<SealKeys>): Promise<SharedPlugin> {
  if (typeof raw !== "string") throw pluginError(source, "", "expected JSON text");
  if (raw.length > MAX_RECORD_BYTES) throw pluginError(source, "", `larger than ${MAX_RECORD_BYTES >> 10} KiB`);
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (error) {
    throw pluginError(source, "", "invalid JSON", error);
  }
  const parsed = v.safeParse(RecordSchema, json);
  if (!parsed.success) {
    const issue = parsed.issues[0];
    throw pluginError(source, v.getDotPath(issue) ?? "", issue.message);
  }
  const record = parsed.output;
  if (record.name !== name) throw pluginError(source, "name", `${JSON.stringify(record.name.slice(0, 80))} does not match the record's key`);
  if (record.module !== undefined && (await sha256Hex(record.module.source)) !== record.module.sha256) {
    throw pluginError(source, "module.sha256", "does not match the module source (the record was altered)");
  }
  const text = JSON.stringify(record.definition);
  if (text.length > MAX_PLUGIN_BYTES) throw pluginError(source, "definition", `larger than ${MAX_PLUGIN_BYTES >> 10} KiB`);
  // `regex:` rules compile on RE2, loaded only for plugins that have one (rule-regex.ts).
  await prepareRegexEngine(text);
  const plugin = loadPluginJson(text, source);
  if (plugin.name !== name) throw pluginError(source, "definition.name", `"${plugin.name}" does not match the record's key`);
  const { seal, ...body } = record;
  await _checkSeal(seal, body, name, source, await fleetKey());
  return { plugin, ...(record.module === undefined ? {} : { moduleSha256: record.module.sha256 }) };
}

function _sealAad(name: string): string {
  return `authsome-plugin:${name}`;
}

/** Refuses a record whose seal does not open with the fleet's key or covers another content. */
async function _checkSeal(seal: v.InferOutput<typeof SealedBoxSchema>, body: unknown, name: string, source: string, keys: SealKeys): Promise<void> {
  let sealed: unknown;
  try {
    sealed = await keys.open(seal, _sealAad(name), source);
  } catch (error) {
    if (!(error instanceof AuthsomeError) || error.code !== "record_tampered") throw error;
    throw pluginError(source, "seal", "does not open with this fleet's key: the record was written or altered without it, or moved from another plugin; nothing of it is used", error);
  }
  const parsed = v.safeParse(SealSchema, sealed);
  if (!parsed.success || parsed.output.name !== name || parsed.output.sha256 !== (await sha256Hex(_canonical(body)))) {
    throw pluginError(source, "seal", "does not match the record: it was altered after it was sealed; nothing of it is used");
  }
}

/**
 * The keys that seal shared plugin records: the default profile's data keys, which every machine
 * with access to the store holds (a machine's approval wraps every profile's key for it).
 */
export async function pluginSealKeys(core: ServiceCore): Promise<SealKeys> {
  const [store, custody] = await Promise.all([core.store(), core.masterKey()]);
  return _defaultKeys(store, custody.key);
}

function _defaultKeys(store: Store, masterKey: CryptoKey): ProfileKeys {
  return new ProfileKeys(store.storage, store.lock, "default", masterKey, (...parts) => store.locate(["p", "default", ...parts].join(":")));
}

/**
 * Re-encryption (rotate.ts): seals every shared plugin record again under the default profile's
 * new data key, so none is refused once the old key is retired. A record that does not open, or
 * whose seal covers other content, is left as it is (it stays refused). Returns how many were sealed again.
 */
export async function resealSharedPlugins(store: Store, masterKey: CryptoKey): Promise<number> {
  if (store.kind !== "redis") return 0;
  const keys = _defaultKeys(store, masterKey);
  const next = await keys.nextKey();
  if (next === undefined) return 0;
  let count = 0;
  for (const key of await store.storage.getKeys(PREFIX)) {
    const name = key.slice(PREFIX.length + 1);
    if (!PLUGIN_NAME_PATTERN.test(name)) continue;
    const raw = await store.storage.getItemRaw(key);
    const parsed = v.safeParse(RecordSchema, typeof raw === "string" && raw.length <= MAX_RECORD_BYTES ? _jsonOrNull(raw) : null);
    if (!parsed.success || parsed.output.name !== name) continue;
    const { seal, ...body } = parsed.output;
    if (await unsealJson(next, seal, _sealAad(name), key).then(() => true, () => false)) continue;
    const ok = await _checkSeal(seal, body, name, key, keys).then(() => true, () => false);
    if (!ok) continue;
    const fresh = await sealJson(next, { name, sha256: await sha256Hex(_canonical(body)) }, _sealAad(name));
    await store.storage.setItem(key, JSON.stringify({ ...body, seal: fresh }));
    count++;
  }
  return count + (await _resealMcpServers(store, keys, next));
}

const McpRecordSchema = v.object({ kind: v.literal("authsome-mcp-server"), version: v.literal(1), box: SealedBoxSchema });

/**
 * The MCP server records of a shared store (`mcp:<name>`, src/mcp/server-store.ts) are sealed
 * whole under the same key as plugins: sealed again here too, or they would be refused once the
 * old key is retired. One that does not open is left as it is.
 */
async function _resealMcpServers(store: Store, keys: SealKeys, next: CryptoKey): Promise<number> {
  let count = 0;
  for (const key of await store.storage.getKeys("mcp")) {
    const name = key.slice("mcp:".length);
    const parsed = v.safeParse(McpRecordSchema, await store.storage.getItem(key));
    if (!parsed.success || !PLUGIN_NAME_PATTERN.test(name)) continue;
    const aad = `authsome-mcp-server:${name}`;
    if (await unsealJson(next, parsed.output.box, aad, key).then(() => true, () => false)) continue;
    const value = await keys.open(parsed.output.box, aad, key).catch(() => undefined);
    if (value === undefined) continue;
    await store.storage.setItem(key, { ...parsed.output, box: await sealJson(next, value, aad) });
    count++;
  }
  return count;
}

function _jsonOrNull(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/**
 * Home plugin files (`names`, read by `read`) that the store's plugin of their name (in `used`)
 * overrides and that say something else: `doctor` names them. @internal
 */
export async function shadowedFiles(names: string[], used: Map<string, ProviderPlugin>, read: (name: string) => Promise<ProviderPlugin | null>, fileOf: (name: string) => string): Promise<{ source: string; message: string }[]> {
  const out: { source: string; message: string }[] = [];
  for (const name of names) {
    const local = await read(name).catch(() => null);
    const fleet = used.get(name);
    if (local !== null && fleet !== undefined && samePlugin(local, fleet)) continue;
    out.push({ source: fileOf(name), message: `differs from the shared store's "${name}", which is used; remove the file, or update the store with: authsome providers add <file> --force` });
  }
  return out;
}

/** Whether two validated plugins say the same thing (a home file against the store's record). */
export function samePlugin(a: ProviderPlugin, b: ProviderPlugin): boolean {
  return _canonical(a) === _canonical(b);
}

function _canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(_canonical).join(",")}]`;
  if (typeof value === "object" && value !== null) {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined).sort(([x], [y]) => (x < y ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${_canonical(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}
