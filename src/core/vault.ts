/**
 * One profile's encrypted vault on top of an unstorage `Storage`. Metadata is stored in the
 * clear (status, scopes, expiry) so listing needs no key; secrets are sealed with the profile's
 * data key, with the record's identity and metadata as associated data, so a ciphertext moved
 * to another record, or metadata edited on disk, fails to open.
 */
import type { Storage } from "unstorage";
import * as v from "valibot";
import { decodeBase64, encodeBase64 } from "@oslojs/encoding";
import { importAesKey, randomBytes, sealJson, unsealJson } from "./crypto.ts";
import { AuthsomeError } from "./errors.ts";
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

function parseStored<T extends v.GenericSchema>(schema: T, value: unknown, what: string): v.InferOutput<T> {
  const result = v.safeParse(schema, value);
  if (result.success) return result.output;
  const issue = result.issues[0];
  const path = issue.path?.map((item) => String(item.key)).join(".") ?? "(root)";
  throw new AuthsomeError("record_invalid", `${what} is unreadable: field "${path}": ${issue.message}`, {
    hint: "remove it with `authsome logout` and log in again",
  });
}

/** Most decrypted records kept for reuse per vault (a profile has a handful). */
const MAX_OPENED = 256;

/** The encrypted vault of one profile. */
export class Vault {
  readonly #storage: Storage;
  readonly #lock: Lock;
  readonly #profile: string;
  readonly #masterKey: CryptoKey;
  #dataKey: Promise<CryptoKey> | undefined;
  /** Secrets last opened per record, with the exact sealed box and AAD they came from. */
  readonly #opened = new Map<string, { nonce: string; ct: string; aad: string; secrets: Secrets }>();

  constructor(storage: Storage, lock: Lock, profile: string, masterKey: CryptoKey) {
    this.#storage = storage;
    this.#lock = lock;
    this.#profile = profile;
    this.#masterKey = masterKey;
  }

  #key(...parts: string[]): string {
    return ["p", this.#profile, ...parts].join(":");
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

  async #loadDataKey(): Promise<CryptoKey> {
    const storageKey = this.#key("key");
    const aad = `authsome/v1/profile-key/${this.#profile}`;
    let stored = await this.#storage.getItem(storageKey);
    if (stored === null) {
      stored = await this.#lock.withLock(`${this.#profile}.key`, async () => {
        const again = await this.#storage.getItem(storageKey);
        if (again !== null) return again;
        const fresh = { v: 1, key: await sealJson(this.#masterKey, encodeBase64(randomBytes(32)), aad), createdAt: new Date().toISOString() };
        await this.#storage.setItem(storageKey, fresh);
        return fresh;
      });
    }
    const wrapped = parseStored(WrappedKeySchema, stored, `the key of profile "${this.#profile}"`);
    let raw: unknown;
    try {
      raw = await unsealJson(this.#masterKey, wrapped.key, aad, "profile key");
    } catch (cause) {
      throw new AuthsomeError("master_key_invalid", `the master key does not open profile "${this.#profile}"`, {
        cause,
        hint: "check AUTHSOME_MASTER_KEY or <home>/master.key: it is not the key this home was created with",
      });
    }
    const parsed = v.safeParse(v.pipe(v.string(), v.base64()), raw);
    if (!parsed.success) throw new AuthsomeError("record_invalid", `the key of profile "${this.#profile}" is malformed`);
    return importAesKey(decodeBase64(parsed.output));
  }

  #recordAad(meta: ConnectionMeta): string {
    return `authsome/v1/record/${this.#profile}/${meta.provider}/${meta.connection}/${canonicalJson(meta)}`;
  }

  /** Metadata of one connection, or null. Does not decrypt. */
  async getMeta(provider: string, connection: string): Promise<ConnectionMeta | null> {
    const stored = await this.#storage.getItem(this.#key("conn", provider, connection));
    if (stored === null) return null;
    return parseStored(StoredRecordSchema, stored, `connection ${provider}/${connection}`).meta;
  }

  /** Metadata and decrypted secrets of one connection, or null. */
  async read(provider: string, connection: string): Promise<Connection | null> {
    const stored = await this.#storage.getItem(this.#key("conn", provider, connection));
    if (stored === null) return null;
    const what = `connection ${provider}/${connection}`;
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
    const plain = await unsealJson(await this.dataKey(), record.secrets, aad, what);
    const secrets = parseStored(SecretsSchema, plain, `${what} secrets`);
    if (this.#opened.size >= MAX_OPENED) this.#opened.clear();
    this.#opened.set(key, { nonce, ct, aad, secrets: { ...secrets } });
    return { meta: record.meta, secrets };
  }

  /** Writes a connection (metadata and freshly sealed secrets) atomically. */
  async write(meta: ConnectionMeta, secrets: Secrets): Promise<void> {
    const sealed = await sealJson(await this.dataKey(), secrets, this.#recordAad(meta));
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

  /** The provider's default connection name, if set. */
  async getDefault(provider: string): Promise<string | undefined> {
    const stored = await this.#storage.getItem(this.#key("prov", provider));
    if (stored === null) return undefined;
    return parseStored(ProviderStateSchema, stored, `provider state of ${provider}`).defaultConnection;
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
    const what = `saved client of ${provider}`;
    const box = parseStored(StoredRecordSchema.entries.secrets, stored, what);
    const plain = await unsealJson(await this.dataKey(), box, `authsome/v1/client/${this.#profile}/${provider}`, what);
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
    await this.#storage.setItem(key, await sealJson(await this.dataKey(), client, aad));
  }

  /** Removes every record of this profile (profile removal). */
  async destroy(): Promise<void> {
    const prefix = ["p", this.#profile].join(":");
    for (const key of await this.#storage.getKeys(prefix)) await this.#storage.removeItem(key);
  }
}
