/**
 * One profile's encrypted vault on top of an unstorage `Storage`. Metadata is stored in the
 * clear (status, scopes, expiry) so listing needs no key; secrets are sealed with the profile's
 * data key, with the record's identity and metadata as associated data, so a ciphertext moved
 * to another record, or metadata edited on disk, fails to open.
 */
import type { Storage } from "unstorage";
import { type SealedBox, sealJson, unsealJson } from "./crypto.ts";
import { AuthsomeError } from "./errors.ts";
import type { Lock } from "./lock.ts";
import { parseStored, ProfileKeys } from "./profile-keys.ts";
import { type ProfileOverview, providerSnapshot, readOverview } from "./vault-overview.ts";
import {
  canonicalJson,
  ClientSecretsSchema,
  type ClientSecrets,
  type ConnectionMeta,
  type Secrets,
  SecretsSchema,
  StoredRecordSchema,
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
  /** The profile's key records: the data key, and a re-encryption's new one. */
  readonly #keys: ProfileKeys;
  /** Secrets last opened per record, with the exact sealed box and AAD they came from. */
  readonly #opened = new Map<string, { nonce: string; ct: string; aad: string; secrets: Secrets }>();

  constructor(storage: Storage, lock: Lock, profile: string, masterKey: CryptoKey, locate: LocateRecord = (key) => `record ${key}`) {
    this.#storage = storage;
    this.#lock = lock;
    this.#profile = profile;
    this.#masterKey = masterKey;
    this.#locate = locate;
    this.#keys = new ProfileKeys(storage, lock, profile, masterKey, (...parts) => this.locate(...parts));
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

  /** The profile's data key, created (under a lock) on first use (src/core/profile-keys.ts). */
  dataKey(): Promise<CryptoKey> {
    return this.#keys.dataKey();
  }

  /** Key rotation: re-wraps the profile's data key under `target` (src/core/profile-keys.ts). */
  rewrapKey(target: CryptoKey): Promise<"rewrapped" | "unchanged" | "absent"> {
    return this.#keys.rewrapKey(target);
  }

  /** Re-encryption under way for this profile (src/core/rotate.ts)? */
  hasNextKey(): Promise<boolean> {
    return this.#keys.hasNextKey();
  }

  /** Re-encryption, step 1: the profile's new data key in `key-next` (kept when one is there). */
  async beginNextKey(target: CryptoKey): Promise<void> {
    await this.#keys.beginNextKey(target);
    await this.#keysChanged();
  }

  /** Re-encryption, step 3: the new data key becomes the profile's key, wrapped under `target`. */
  async promoteNextKey(target: CryptoKey): Promise<void> {
    await this.#keys.promoteNextKey(target);
    await this.#keysChanged();
  }

  /** Opens a record's box with the profile's data keys; once more if a rotation replaced them meanwhile. */
  async #open(box: SealedBox, aad: string, what: string): Promise<unknown> {
    try {
      return await this.#keys.open(box, aad, what);
    } catch (error) {
      if (!(await this.#keysChanged())) throw error;
      return this.#keys.open(box, aad, what);
    }
  }

  /**
   * The data key new secrets are sealed with: a re-encryption's new one when under way. The key
   * records are read again first (two small reads per write, which fsyncs anyway): this vault
   * may have loaded them before a rotation changed them, and must not seal with a retired key.
   */
  async #sealKey(): Promise<CryptoKey> {
    await this.#keysChanged();
    return this.#keys.sealKey();
  }

  /** Drops cached keys and opened secrets when the key records changed since last seen. */
  async #keysChanged(): Promise<boolean> {
    const dropped = await this.#keys.refresh();
    if (dropped) this.#opened.clear();
    return dropped;
  }

  /** Re-encryption, step 2: seals one connection (or, without one, the saved client) under the new key; false when it already was. */
  async reseal(provider: string, connection?: string): Promise<boolean> {
    const next = await this.#keys.nextKey();
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

  /** Provider names with a default pointer in this profile (a pointer may outlive its connections). */
  async pointerNames(): Promise<string[]> {
    const prefix = `${this.#key("prov")}:`;
    return (await this.#storage.getKeys(prefix)).filter((key) => key.startsWith(prefix)).map((key) => key.slice(prefix.length));
  }

  /**
   * Reads the provider's default pointer once. A damaged pointer is returned as `damage`, not
   * thrown: it must not make the provider's other connections unreadable (issue 11).
   */
  async readProvider(provider: string): Promise<ProviderSnapshot> {
    return providerSnapshot(await this.#storage.getItem(this.#key("prov", provider)), provider, (...parts) => this.locate(...parts));
  }

  /** Every default pointer and connection's metadata of this profile in two store reads (`list`). */
  overview(): Promise<ProfileOverview> {
    return readOverview(this.#storage, this.#profile, (...parts) => this.locate(...parts));
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
