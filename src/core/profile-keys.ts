/**
 * One profile's key records: `key` (its data key, wrapped under the master key) and, while a
 * re-encryption is under way (src/core/rotate.ts), `key-next` (the new data key, wrapped under
 * the new master key). Opening tries the master key and a rotation's other key
 * (src/core/key-fallbacks.ts); records open with either data key until the switch.
 */
import type { Storage } from "unstorage";
import * as v from "valibot";
import { decodeBase64, encodeBase64 } from "@oslojs/encoding";
import { importAesKey, randomBytes, type SealedBox, sealJson, unsealJson } from "./crypto.ts";
import { AuthsomeError } from "./errors.ts";
import { currentKey, fallbackKeys } from "./key-fallbacks.ts";
import type { Lock } from "./lock.ts";
import { machineOf, type MachineKey, MachineWrapSchema, unwrapForMachine } from "./machine-keys.ts";
import { WrappedKeySchema } from "./records.ts";

/** Parses a stored value with `schema`, naming the first bad field as record_invalid. */
export function parseStored<T extends v.GenericSchema>(schema: T, value: unknown, what: string, hint = "run `authsome doctor --repair` to move it aside, then log in again"): v.InferOutput<T> {
  const result = v.safeParse(schema, value);
  if (result.success) return result.output;
  const issue = result.issues[0];
  const path = issue.path?.map((item) => String(item.key)).join(".") ?? "(root)";
  throw new AuthsomeError("record_invalid", `${what} is unreadable: field "${path}": ${issue.message}`, { hint });
}

/** The key records of one profile. */
export class ProfileKeys {
  readonly #storage: Storage;
  readonly #lock: Lock;
  readonly #profile: string;
  readonly #masterKey: CryptoKey;
  readonly #locate: (...parts: string[]) => string;
  #dataKey: Promise<CryptoKey> | undefined;
  #nextKey: Promise<CryptoKey | undefined> | undefined;
  /** The key records as last seen by {@link refresh}. */
  #stamp: string | undefined;

  constructor(storage: Storage, lock: Lock, profile: string, masterKey: CryptoKey, locate: (...parts: string[]) => string) {
    this.#storage = storage;
    this.#lock = lock;
    this.#profile = profile;
    this.#masterKey = masterKey;
    this.#locate = locate;
  }

  #key(...parts: string[]): string {
    return ["p", this.#profile, ...parts].join(":");
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
    const { raw } = await this.rawDataKey(true);
    return importAesKey(decodeBase64(raw));
  }

  /**
   * The profile's data key as base64, and its record's `createdAt` (`machine approve` wraps it for
   * another machine). With `create`, a profile without one gets one; a machine key never creates
   * one (the fleet's other machines could not open it).
   */
  async rawDataKey(create = false): Promise<{ raw: string; createdAt: string }> {
    const machine = machineOf(this.#masterKey);
    if (machine !== undefined) return this.#machineDataKey(machine);
    const storageKey = this.#key("key");
    let stored = await this.#storage.getItem(storageKey);
    if (stored === null) {
      if (!create) throw new AuthsomeError("record_invalid", `profile "${this.#profile}" has no key record (${this.#locate("key")})`);
      stored = await this.#lock.withLock(`${this.#profile}.key`, async () => {
        const again = await this.#storage.getItem(storageKey);
        if (again !== null) return again;
        const fresh = await this.#wrapKey(encodeBase64(randomBytes(32)), new Date().toISOString());
        await this.#storage.setItem(storageKey, fresh);
        return fresh;
      });
    }
    const what = `the key of profile "${this.#profile}" (${this.#locate("key")})`;
    const wrapped = parseStored(WrappedKeySchema, stored, what, "restore it from a backup: records sealed under it cannot be opened without it");
    const aad = this.#keyAad(wrapped.v, wrapped.createdAt);
    let raw: unknown;
    try {
      raw = await this.#unwrap(wrapped.key, aad, what);
    } catch (cause) {
      // AES-GCM cannot tell a wrong key from an edited record: both are named.
      throw new AuthsomeError("master_key_invalid", `the master key does not open profile "${this.#profile}", or ${this.#locate("key")} was modified`, {
        cause,
        hint: "check AUTHSOME_MASTER_KEY or <home>/master.key (it must be the key this home was created with), and that the key record is intact",
      });
    }
    const parsed = v.safeParse(v.pipe(v.string(), v.base64()), raw);
    if (!parsed.success) throw new AuthsomeError("record_invalid", `${what} is malformed`);
    if (wrapped.v === 1) {
      await this.#migrateKey(storageKey, parsed.output);
      // The v2 record has a createdAt of its own: a machine's wrapping must name that one.
      const migrated = v.safeParse(WrappedKeySchema, await this.#storage.getItem(storageKey));
      return { raw: parsed.output, createdAt: migrated.success ? migrated.output.createdAt : wrapped.createdAt };
    }
    return { raw: parsed.output, createdAt: wrapped.createdAt };
  }

  /**
   * A joined machine's copy of the data key (src/core/machines.ts): wrapped for its own key pair.
   * Missing (never approved for this profile, or removed) or older than the profile's key record
   * (the data key was replaced since) is one clear `machine_no_access`.
   */
  async #machineDataKey(machine: MachineKey): Promise<{ raw: string; createdAt: string }> {
    const slot = `machine:${machine.id}:key:${this.#profile}`;
    const [stored, record] = await Promise.all([this.#storage.getItem(slot), this.#storage.getItem(this.#key("key"))]);
    const refuse = (detail: string) => new AuthsomeError("machine_no_access", `this machine (${machine.id}, ${machine.host}) ${detail}`, {
      hint: "run `authsome machine join` here, then `authsome machine approve <id>` on a machine that has access",
    });
    if (stored === null) throw refuse(record === null ? `cannot create profile "${this.#profile}": a profile's first key is made on a machine holding the fleet's master key` : `has no key for profile "${this.#profile}" (not approved, or removed)`);
    const wrap = parseStored(MachineWrapSchema, stored, `this machine's key of profile "${this.#profile}" (${slot})`, "approve this machine again from a machine with access");
    const current = v.safeParse(WrappedKeySchema, record);
    if (current.success && current.output.createdAt !== wrap.createdAt) throw refuse(`holds an old key of profile "${this.#profile}": its data key was replaced since this machine was approved`);
    return { raw: await unwrapForMachine(machine, this.#profile, wrap, `this machine's key of profile "${this.#profile}" (${slot})`), createdAt: wrap.createdAt };
  }

  /** Opens a wrapped data key with the master key, or a rotation's other key (src/core/key-fallbacks.ts). */
  async #unwrap(box: SealedBox, aad: string, what: string, keys = [this.#masterKey, ...fallbackKeys(this.#masterKey)]): Promise<unknown> {
    return _unsealWithAny(keys, box, aad, what, "no master key to open the key record with");
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
      const what = `the key of profile "${this.#profile}" (${this.#locate("key")})`;
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
  async openKeys(): Promise<CryptoKey[]> {
    const next = await this.nextKey();
    return next === undefined ? [await this.dataKey()] : [await this.dataKey(), next];
  }

  /** A re-encryption's new data key, when one is under way. */
  nextKey(): Promise<CryptoKey | undefined> {
    this.#nextKey ??= this.#readNextKey().catch((error: unknown) => {
      this.#nextKey = undefined;
      throw error;
    });
    return this.#nextKey;
  }

  async #readNextKey(): Promise<CryptoKey | undefined> {
    // A machine holds only the wrapping of the current data key; it is approved again after a re-encryption.
    if (machineOf(this.#masterKey) !== undefined) return undefined;
    const stored = await this.#storage.getItem(this.#key("key-next"));
    if (stored === null) return undefined;
    const what = `the new key of profile "${this.#profile}" (${this.#locate("key-next")})`;
    const wrapped = parseStored(WrappedKeySchema, stored, what, "run `authsome key rotate` to finish the interrupted rotation");
    const raw = v.parse(v.pipe(v.string(), v.base64()), await this.#unwrap(wrapped.key, this.#nextAad(wrapped.createdAt), what));
    return importAesKey(decodeBase64(raw));
  }

  #nextAad(createdAt: string): string {
    return `authsome/v2/profile-key-next/${this.#profile}/${createdAt}`;
  }

  /** Re-encryption under way for this profile? */
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
  }

  /** Re-encryption, step 3: the new data key becomes the profile's key, wrapped under `target`; `key-next` goes. */
  async promoteNextKey(target: CryptoKey): Promise<void> {
    await this.#lock.withLock(`${this.#profile}.key`, async () => {
      const stored = await this.#storage.getItem(this.#key("key-next"));
      if (stored === null) return;
      const what = `the new key of profile "${this.#profile}" (${this.#locate("key-next")})`;
      const wrapped = parseStored(WrappedKeySchema, stored, what);
      const raw = v.parse(v.pipe(v.string(), v.base64()), await this.#unwrap(wrapped.key, this.#nextAad(wrapped.createdAt), what));
      // One atomic write switches the profile; until key-next is removed both name the same key.
      await this.#storage.setItem(this.#key("key"), await this.#wrapKey(raw, wrapped.createdAt, target));
      await this.#storage.removeItem(this.#key("key-next"));
    });
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

  /** Opens a record's box with the data key, or a re-encryption's new one. */
  async open(box: SealedBox, aad: string, what: string): Promise<unknown> {
    return _unsealWithAny(await this.openKeys(), box, aad, what, "no data key");
  }

  /** The key new records are sealed with: a re-encryption's new one when under way (none is sealed under a key about to be retired). */
  async sealKey(): Promise<CryptoKey> {
    return (await this.nextKey()) ?? (await this.dataKey());
  }

  /**
   * Reads the key records again and drops the cached keys when they differ from when last seen
   * (or were never seen): a rotation in another process replaced them. True when it dropped.
   */
  async refresh(): Promise<boolean> {
    const stamp = JSON.stringify([await this.#storage.getItem(this.#key("key")), await this.#storage.getItem(this.#key("key-next"))]);
    const dropped = stamp !== this.#stamp;
    if (dropped) {
      this.#dataKey = undefined;
      this.#nextKey = undefined;
    }
    this.#stamp = stamp;
    return dropped;
  }
}

/**
 * Opens `box` with the first of `keys` that fits (during a rotation a record may be under either
 * key); the last key's error is the one reported.
 */
async function _unsealWithAny(keys: CryptoKey[], box: SealedBox, aad: string, what: string, none: string): Promise<unknown> {
  for (const [index, key] of keys.entries()) {
    try {
      return await unsealJson(key, box, aad, what);
    } catch (error) {
      if (index === keys.length - 1) throw error;
    }
  }
  throw new AuthsomeError("internal", none);
}
