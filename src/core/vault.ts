/**
 * One profile's encrypted vault on top of an unstorage `Storage`. Metadata is stored in the
 * clear (status, scopes, expiry) so listing needs no key; secrets are sealed with the profile's
 * data key, with the record's identity and metadata as associated data, so a ciphertext moved
 * to another record, or metadata edited on disk, fails to open.
 */
import type { Storage } from "unstorage";
import * as v from "valibot";
import { decodeBase64, encodeBase64 } from "@oslojs/encoding";
import { importAesKey, randomBytes, type SealedBox, sealJson, unsealJson } from "./crypto.ts";
import { AuthsomeError } from "./errors.ts";
import { currentKey, fallbackKeys } from "./key-fallbacks.ts";
import type { Lock } from "./lock.ts";
import {
  canonicalJson,
  ClientSecretsSchema,
  type ClientSecrets,
  type ConnectionMeta,
  ProviderStateSchema,
  type Secrets,
  SecretsSchema,
  StoredRecordSchema,
  WrappedKeySchema,
} from "./records.ts";

/** A decrypted connection. */
export interface Connection {
  meta: ConnectionMeta;
  secrets: Secrets;
}

/**
 * A provider's default pointer, read once per command (issue 11): every decision of one command
 * (which connection, whether it is the default) comes from this one read, so a concurrent
 * `authsome default` can never show the default connection as not the default.
 */
export interface ProviderSnapshot {
  /** The default connection's name, if set and readable. */
  defaultConnection: string | undefined;
  /** Why the pointer record could not be read; only choosing the default is affected. */
  damage?: AuthsomeError;
}

/** Names a storage key for messages: its file for the fs store (`locate`), else the key. */
export type LocateRecord = (key: string) => string;

function parseStored<T extends v.GenericSchema>(schema: T, value: unknown, what: string, hint = "run `authsome doctor --repair` to move it aside, then log in again"): v.InferOutput<T> {
  const result = v.safeParse(schema, value);
  if (result.success) return result.output;
  const issue = result.issues[0];
  const path = issue.path?.map((item) => String(item.key)).join(".") ?? "(root)";
  throw new AuthsomeError("record_invalid", `${what} is unreadable: field "${path}": ${issue.message}`, { hint });
}

/** True for the errors a damaged record gives (as opposed to a store that cannot be reached). */
export function isDamage(error: unknown): error is AuthsomeError {
  return error instanceof AuthsomeError && (error.code === "record_invalid" || error.code === "record_tampered");
}

/** Most decrypted records kept for reuse per vault (a profile has a handful). */
const MAX_OPENED = 256;

/** The encrypted vault of one profile. */
export class Vault {
  readonly #storage: Storage;
  readonly #lock: Lock;
  readonly #profile: string;
  readonly #masterKey: CryptoKey;
  readonly #locate: LocateRecord;
  #dataKey: Promise<CryptoKey> | undefined;
  /** A re-encryption's new data key (`key-next`, src/core/rotate.ts), when one is under way. */
  #nextKey: Promise<CryptoKey | undefined> | undefined;
  /** The key records as last seen, to notice a rotation that replaced them since. */
  #keyStamp: string | undefined;
  /** Secrets last opened per record, with the exact sealed box and AAD they came from. */
  readonly #opened = new Map<string, { nonce: string; ct: string; aad: string; secrets: Secrets }>();

  constructor(storage: Storage, lock: Lock, profile: string, masterKey: CryptoKey, locate: LocateRecord = (key) => `record ${key}`) {
    this.#storage = storage;
    this.#lock = lock;
    this.#profile = profile;
    this.#masterKey = masterKey;
    this.#locate = locate;
  }

  /** The profile this vault belongs to. */
  get profile(): string {
    return this.#profile;
  }

  #key(...parts: string[]): string {
    return ["p", this.#profile, ...parts].join(":");
  }

  /** Where a record lives, for messages (a file path for the fs store). */
  locate(...parts: string[]): string {
    return this.#locate(this.#key(...parts));
  }

  /** Runs `fn` holding the cross-process lock for one provider of this profile. */
  withProviderLock<T>(provider: string, fn: () => Promise<T>): Promise<T> {
    return this.#lock.withLock(`${this.#profile}.${provider}`, fn);
  }

  /** Runs `fn` holding the lock for one connection (token refresh). */
  withConnectionLock<T>(provider: string, connection: string, fn: () => Promise<T>): Promise<T> {
    return this.#lock.withLock(`${this.#profile}.${provider}.${connection}.refresh`, fn);
  }

  /** The profile's data key, created (under a lock) on first use. */
  dataKey(): Promise<CryptoKey> {
    this.#dataKey ??= this.#loadDataKey().catch((error: unknown) => {
      this.#dataKey = undefined;
      throw error;
    });
    return this.#dataKey;
  }

  /**
   * Key record v2 binds its `createdAt` into the associated data, so every byte of the record is
   * authenticated; v1 (which left `createdAt` outside) is still read, and re-wrapped as v2 the
   * first time it opens (under the key lock; the data key itself does not change).
   */
  async #loadDataKey(): Promise<CryptoKey> {
    const storageKey = this.#key("key");
    let stored = await this.#storage.getItem(storageKey);
    if (stored === null) {
      stored = await this.#lock.withLock(`${this.#profile}.key`, async () => {
        const again = await this.#storage.getItem(storageKey);
        if (again !== null) return again;
        const fresh = await this.#wrapKey(encodeBase64(randomBytes(32)), new Date().toISOString());
        await this.#storage.setItem(storageKey, fresh);
        return fresh;
      });
    }
    const what = `the key of profile "${this.#profile}" (${this.locate("key")})`;
    const wrapped = parseStored(WrappedKeySchema, stored, what, "restore it from a backup: records sealed under it cannot be opened without it");
    const aad = this.#keyAad(wrapped.v, wrapped.createdAt);
    let raw: unknown;
    try {
      raw = await this.#unwrap(wrapped.key, aad, what);
    } catch (cause) {
      // AES-GCM cannot tell a wrong key from an edited record: both are named.
      throw new AuthsomeError("master_key_invalid", `the master key does not open profile "${this.#profile}", or ${this.locate("key")} was modified`, {
        cause,
        hint: "check AUTHSOME_MASTER_KEY or <home>/master.key (it must be the key this home was created with), and that the key record is intact",
      });
    }
    const parsed = v.safeParse(v.pipe(v.string(), v.base64()), raw);
    if (!parsed.success) throw new AuthsomeError("record_invalid", `${what} is malformed`);
    if (wrapped.v === 1) await this.#migrateKey(storageKey, parsed.output);
    return importAesKey(decodeBase64(parsed.output));
  }

  /** Opens a wrapped data key with the master key, or a rotation's other key (src/core/key-fallbacks.ts). */
  async #unwrap(box: SealedBox, aad: string, what: string, keys = [this.#masterKey, ...fallbackKeys(this.#masterKey)]): Promise<unknown> {
    for (const [index, key] of keys.entries()) {
      try {
        return await unsealJson(key, box, aad, what);
      } catch (error) {
        if (index === keys.length - 1) throw error;
      }
    }
    throw new AuthsomeError("internal", "no master key to open the key record with");
  }

  /**
   * Key rotation (src/core/rotate.ts): re-wraps this profile's data key under `target` in one
   * atomic write, under the key lock; the data key and `createdAt` stay, so every record still
   * opens. "unchanged" when `target` opens it already (a resumed rotation), "absent" without one.
   */
  async rewrapKey(target: CryptoKey): Promise<"rewrapped" | "unchanged" | "absent"> {
    const storageKey = this.#key("key");
    return this.#lock.withLock(`${this.#profile}.key`, async () => {
      const stored = await this.#storage.getItem(storageKey);
      if (stored === null) return "absent";
      const what = `the key of profile "${this.#profile}" (${this.locate("key")})`;
      const wrapped = parseStored(WrappedKeySchema, stored, what, "restore it from a backup: records sealed under it cannot be opened without it");
      const aad = this.#keyAad(wrapped.v, wrapped.createdAt);
      if (wrapped.v === 2 && (await unsealJson(target, wrapped.key, aad, what).then(() => true, () => false))) return "unchanged";
      const raw = v.parse(v.pipe(v.string(), v.base64()), await this.#unwrap(wrapped.key, aad, what));
      const createdAt = wrapped.v === 2 ? wrapped.createdAt : new Date().toISOString();
      await this.#storage.setItem(storageKey, { v: 2, key: await sealJson(target, raw, this.#keyAad(2, createdAt)), createdAt });
      this.#dataKey = undefined;
      return "rewrapped";
    });
  }

  /** The data keys that may open a record: the profile's, then a re-encryption's new one. */
  async #openKeys(): Promise<CryptoKey[]> {
    const next = await this.#loadNext();
    return next === undefined ? [await this.dataKey()] : [await this.dataKey(), next];
  }

  /** Opens a record's box; once more with freshly loaded keys if a rotation replaced them meanwhile. */
  async #open(box: SealedBox, aad: string, what: string): Promise<unknown> {
    const attempt = async () => {
      const keys = await this.#openKeys();
      for (const [index, key] of keys.entries()) {
        try {
          return await unsealJson(key, box, aad, what);
        } catch (error) {
          if (index === keys.length - 1) throw error;
        }
      }
      throw new AuthsomeError("internal", "no data key");
    };
    try {
      return await attempt();
    } catch (error) {
      if (!(await this.#keysChanged())) throw error;
      return attempt();
    }
  }

  /**
   * The data key new secrets are sealed with: a re-encryption's new one when under way, so no
   * record is sealed again under a key about to be retired. The key records are read again
   * first (two small reads per write, which fsyncs anyway): this vault may have loaded them
   * before a rotation changed them.
   */
  async #sealKey(): Promise<CryptoKey> {
    await this.#keysChanged();
    return (await this.#loadNext()) ?? (await this.dataKey());
  }

  /** Drops the cached data keys when the key records differ from when they were last seen. */
  async #keysChanged(): Promise<boolean> {
    const stamp = JSON.stringify([await this.#storage.getItem(this.#key("key")), await this.#storage.getItem(this.#key("key-next"))]);
    const changed = this.#keyStamp !== undefined && stamp !== this.#keyStamp;
    if (this.#keyStamp === undefined || changed) {
      this.#dataKey = undefined;
      this.#nextKey = undefined;
      this.#opened.clear();
    }
    this.#keyStamp = stamp;
    return changed;
  }

  #loadNext(): Promise<CryptoKey | undefined> {
    this.#nextKey ??= this.#readNextKey().catch((error: unknown) => {
      this.#nextKey = undefined;
      throw error;
    });
    return this.#nextKey;
  }

  async #readNextKey(): Promise<CryptoKey | undefined> {
    const stored = await this.#storage.getItem(this.#key("key-next"));
    if (stored === null) return undefined;
    const what = `the new key of profile "${this.#profile}" (${this.locate("key-next")})`;
    const wrapped = parseStored(WrappedKeySchema, stored, what, "run `authsome key rotate` to finish the interrupted rotation");
    const raw = v.parse(v.pipe(v.string(), v.base64()), await this.#unwrap(wrapped.key, this.#nextAad(wrapped.createdAt), what));
    return importAesKey(decodeBase64(raw));
  }

  #nextAad(createdAt: string): string {
    return `authsome/v2/profile-key-next/${this.#profile}/${createdAt}`;
  }

  /** Re-encryption under way for this profile (src/core/rotate.ts)? */
  async hasNextKey(): Promise<boolean> {
    return (await this.#storage.getItem(this.#key("key-next"))) !== null;
  }

  /**
   * Re-encryption, step 1: a new data key for the profile, wrapped under `target` in `key-next`.
   * One already there is kept: records may be sealed with it already.
   */
  async beginNextKey(target: CryptoKey): Promise<void> {
    await this.#lock.withLock(`${this.#profile}.key`, async () => {
      if (await this.hasNextKey()) return;
      const createdAt = new Date().toISOString();
      await this.#storage.setItem(this.#key("key-next"), { v: 2, key: await sealJson(target, encodeBase64(randomBytes(32)), this.#nextAad(createdAt)), createdAt });
    });
    await this.#keysChanged();
  }

  /** Re-encryption, step 2: seals one connection (or, without one, the saved client) under the new key; false when it already was. */
  async reseal(provider: string, connection?: string): Promise<boolean> {
    const next = await this.#loadNext();
    if (next === undefined) throw new AuthsomeError("internal", `no re-encryption under way for profile "${this.#profile}"`);
    const stored = await this.#storage.getItem(connection === undefined ? this.#key("client", provider) : this.#key("conn", provider, connection));
    if (stored === null) return false;
    if (connection === undefined) {
      const box = parseStored(StoredRecordSchema.entries.secrets, stored, `saved client of ${provider}`);
      if (await unsealJson(next, box, `authsome/v1/client/${this.#profile}/${provider}`, "").then(() => true, () => false)) return false;
      await this.setClient(provider, await this.getClient(provider));
      return true;
    }
    const record = parseStored(StoredRecordSchema, stored, `connection ${provider}/${connection}`);
    if (await unsealJson(next, record.secrets, this.#recordAad(record.meta), "").then(() => true, () => false)) return false;
    const found = await this.read(provider, connection);
    if (found !== null) await this.write(found.meta, found.secrets);
    return found !== null;
  }

  /** Re-encryption, step 3: the new data key becomes the profile's key, wrapped under `target`; `key-next` goes. */
  async promoteNextKey(target: CryptoKey): Promise<void> {
    await this.#lock.withLock(`${this.#profile}.key`, async () => {
      const stored = await this.#storage.getItem(this.#key("key-next"));
      if (stored === null) return;
      const what = `the new key of profile "${this.#profile}" (${this.locate("key-next")})`;
      const wrapped = parseStored(WrappedKeySchema, stored, what);
      const raw = v.parse(v.pipe(v.string(), v.base64()), await this.#unwrap(wrapped.key, this.#nextAad(wrapped.createdAt), what));
      // One atomic write switches the profile; until key-next is removed both name the same key.
      await this.#storage.setItem(this.#key("key"), await this.#wrapKey(raw, wrapped.createdAt, target));
      await this.#storage.removeItem(this.#key("key-next"));
    });
    await this.#keysChanged();
  }

  #keyAad(version: 1 | 2, createdAt: string): string {
    return version === 1 ? `authsome/v1/profile-key/${this.#profile}` : `authsome/v2/profile-key/${this.#profile}/${createdAt}`;
  }

  async #wrapKey(rawBase64: string, createdAt: string, master = currentKey(this.#masterKey)): Promise<{ v: 2; key: SealedBox; createdAt: string }> {
    return { v: 2, key: await sealJson(master, rawBase64, this.#keyAad(2, createdAt)), createdAt };
  }

  /** Re-wraps a v1 key record as v2 (same data key), unless another process already did. */
  async #migrateKey(storageKey: string, rawBase64: string): Promise<void> {
    await this.#lock.withLock(`${this.#profile}.key`, async () => {
      const current = v.safeParse(WrappedKeySchema, await this.#storage.getItem(storageKey));
      if (!current.success || current.output.v !== 1) return;
      await this.#storage.setItem(storageKey, await this.#wrapKey(rawBase64, new Date().toISOString()));
    });
  }

  #recordAad(meta: ConnectionMeta): string {
    return `authsome/v1/record/${this.#profile}/${meta.provider}/${meta.connection}/${canonicalJson(meta)}`;
  }

  /** Metadata of one connection, or null. Does not decrypt. */
  async getMeta(provider: string, connection: string): Promise<ConnectionMeta | null> {
    const stored = await this.#storage.getItem(this.#key("conn", provider, connection));
    if (stored === null) return null;
    return parseStored(StoredRecordSchema, stored, `connection ${provider}/${connection} (${this.locate("conn", provider, connection)})`).meta;
  }

  /** Metadata and decrypted secrets of one connection, or null. */
  async read(provider: string, connection: string): Promise<Connection | null> {
    const stored = await this.#storage.getItem(this.#key("conn", provider, connection));
    if (stored === null) return null;
    const what = `connection ${provider}/${connection} (${this.locate("conn", provider, connection)})`;
    const record = parseStored(StoredRecordSchema, stored, what);
    if (record.meta.provider !== provider || record.meta.connection !== connection) {
      throw new AuthsomeError("record_tampered", `${what} holds another record's data`);
    }
    const aad = this.#recordAad(record.meta);
    const { nonce, ct } = record.secrets;
    // The proxy reads a record per request. The same box under the same key and AAD can only
    // open to the same secrets, so those are reused until the stored record changes (a login
    // or refresh writes a fresh nonce); edited metadata changes the AAD and is checked again.
    const key = `${provider}/${connection}`;
    const cached = this.#opened.get(key);
    if (cached !== undefined && cached.nonce === nonce && cached.ct === ct && cached.aad === aad) {
      return { meta: record.meta, secrets: { ...cached.secrets } };
    }
    const plain = await this.#open(record.secrets, aad, what);
    const secrets = parseStored(SecretsSchema, plain, `${what} secrets`);
    if (this.#opened.size >= MAX_OPENED) this.#opened.clear();
    this.#opened.set(key, { nonce, ct, aad, secrets: { ...secrets } });
    return { meta: record.meta, secrets };
  }

  /** Writes a connection (metadata and freshly sealed secrets) atomically. */
  async write(meta: ConnectionMeta, secrets: Secrets): Promise<void> {
    const sealed = await sealJson(await this.#sealKey(), secrets, this.#recordAad(meta));
    await this.#storage.setItem(this.#key("conn", meta.provider, meta.connection), { v: 1, meta, secrets: sealed });
  }

  /** Removes one connection record; false when there was none. */
  async remove(provider: string, connection: string): Promise<boolean> {
    const key = this.#key("conn", provider, connection);
    this.#opened.delete(`${provider}/${connection}`);
    if (!(await this.#storage.hasItem(key))) return false;
    await this.#storage.removeItem(key);
    return true;
  }

  /** Connection names of one provider, sorted. */
  async connectionNames(provider: string): Promise<string[]> {
    const prefix = this.#key("conn", provider);
    const keys = await this.#storage.getKeys(prefix);
    return keys.map((key) => key.slice(prefix.length + 1)).filter((name) => !name.includes(":")).sort();
  }

  /** Provider names with at least one connection in this profile. */
  async providerNames(): Promise<string[]> {
    const prefix = this.#key("conn");
    const keys = await this.#storage.getKeys(prefix);
    return [...new Set(keys.map((key) => key.slice(prefix.length + 1).split(":")[0] ?? ""))].filter(Boolean).sort();
  }

  /**
   * Reads the provider's default pointer once. A damaged pointer is returned as `damage`, not
   * thrown: it must not make the provider's other connections unreadable (issue 11).
   */
  async readProvider(provider: string): Promise<ProviderSnapshot> {
    const stored = await this.#storage.getItem(this.#key("prov", provider));
    if (stored === null) return { defaultConnection: undefined };
    const what = `the default pointer of ${provider} (${this.locate("prov", provider)})`;
    const hint = `other connections still work with --connection NAME; set it again with \`authsome default ${provider} <connection>\`, or move it aside with \`authsome doctor --repair\``;
    try {
      return { defaultConnection: parseStored(ProviderStateSchema, stored, what, hint).defaultConnection };
    } catch (error) {
      if (isDamage(error)) return { defaultConnection: undefined, damage: error };
      throw error;
    }
  }

  /** The provider's default connection name, if set and readable. */
  async getDefault(provider: string): Promise<string | undefined> {
    return (await this.readProvider(provider)).defaultConnection;
  }

  /** Sets (or clears, with undefined) the provider's default connection. */
  async setDefault(provider: string, connection: string | undefined): Promise<void> {
    const key = this.#key("prov", provider);
    if (connection === undefined) await this.#storage.removeItem(key);
    else await this.#storage.setItem(key, { defaultConnection: connection });
  }

  /** Saved OAuth app credentials for a provider, or null. */
  async getClient(provider: string): Promise<ClientSecrets | null> {
    const stored = await this.#storage.getItem(this.#key("client", provider));
    if (stored === null) return null;
    const what = `saved client of ${provider} (${this.locate("client", provider)})`;
    const box = parseStored(StoredRecordSchema.entries.secrets, stored, what);
    const plain = await this.#open(box, `authsome/v1/client/${this.#profile}/${provider}`, what);
    return parseStored(ClientSecretsSchema, plain, what);
  }

  /** Saves (or, with null, removes) OAuth app credentials for a provider. */
  async setClient(provider: string, client: ClientSecrets | null): Promise<void> {
    const key = this.#key("client", provider);
    if (client === null) {
      await this.#storage.removeItem(key);
      return;
    }
    const aad = `authsome/v1/client/${this.#profile}/${provider}`;
    await this.#storage.setItem(key, await sealJson(await this.#sealKey(), client, aad));
  }

  /** Removes every record of this profile (profile removal). */
  async destroy(): Promise<void> {
    const prefix = ["p", this.#profile].join(":");
    for (const key of await this.#storage.getKeys(prefix)) await this.#storage.removeItem(key);
  }
}
