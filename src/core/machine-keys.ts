/**
 * This machine's own key pair (ECDH P-256, Web Crypto) and the wrapping of profile data keys for
 * a machine's public key, so a machine joining a shared store never needs another machine's
 * master key (issue 14 part 6; docs/fleet.md, "Machines").
 *
 * The private key is kept like a new home's master key (key-custody.ts): in the OS keyring when
 * one answers (the home then holds `machine.keyring`, a pointer naming the entry, no secret),
 * else in `<home>/machine.key` (mode 0600); made at first use. Only the public key (SPKI) goes
 * to the store. A data key is wrapped ECIES-style: a fresh
 * ephemeral ECDH key per wrapping, HKDF-SHA-256 of the shared secret to an AES-256-GCM key, and
 * associated data naming the profile, the machine and the data key's `createdAt`, so a wrapping
 * copied to another machine's or profile's slot does not open.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import { decodeBase64, encodeBase64, encodeHexLowerCase } from "@oslojs/encoding";
import { type SealedBox, sealJson, unsealJson } from "./crypto.ts";
import { AuthsomeError } from "./errors.ts";
import { createFileExclusive, readRegularFile } from "./files.ts";
import { machineIdentity } from "./machine.ts";

const ECDH: EcKeyImportParams = { name: "ECDH", namedCurve: "P-256" };
const encoder = new TextEncoder();

/** This machine's identity and key pair, as loaded from its home. */
export interface MachineKey {
  /** The home's machine id (src/core/machine.ts). */
  id: string;
  host: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  /** The public key as base64 SPKI (what the store holds). */
  spki: string;
  /** First 16 hex digits of SHA-256 over the SPKI: what a person compares at approval. */
  fingerprint: string;
}

const KeyFileSchema = v.object({ v: v.literal(1), alg: v.literal("ECDH-P256"), pkcs8: v.string(), spki: v.string() });

/** Path of the home's machine key file. */
export function machineKeyPath(home: string): string {
  return join(home, "machine.key");
}

/** Path of the home's pointer to its machine key in the OS keyring. */
export function machineKeyringPath(home: string): string {
  return join(home, "machine.keyring");
}

/** The home's machine key file, else its keyring pointer (for `doctor`'s mode check): whichever exists. */
export function machineKeyLocation(home: string): string {
  return existsSync(machineKeyPath(home)) ? machineKeyPath(home) : machineKeyringPath(home);
}

/** The short fingerprint of a base64 SPKI. */
export async function fingerprintOf(spki: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new Uint8Array(decodeBase64(spki))));
  return encodeHexLowerCase(digest).slice(0, 16);
}

async function _readKeyFile(path: string): Promise<string | undefined> {
  try {
    return await readRegularFile(path, 64 * 1024);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

/** A new key pair, as the key file (or keyring entry) holds it. */
async function _newKeyText(): Promise<string> {
  const pair = (await crypto.subtle.generateKey(ECDH, true, ["deriveBits"])) as CryptoKeyPair;
  const pkcs8 = encodeBase64(new Uint8Array(await crypto.subtle.exportKey("pkcs8", pair.privateKey)));
  const spki = encodeBase64(new Uint8Array(await crypto.subtle.exportKey("spki", pair.publicKey)));
  return `${JSON.stringify({ v: 1, alg: "ECDH-P256", pkcs8, spki })}\n`;
}

/** The key text the home's keyring pointer names; undefined without a pointer. */
async function _readKeyring(home: string): Promise<string | undefined> {
  const { readPointer, describeEntry } = await import("./key-custody.ts");
  const pointer = readPointer(machineKeyringPath(home));
  if (pointer === undefined) return undefined;
  const { keyringGet } = await import("../runtime/keyring.ts");
  const text = await keyringGet(pointer);
  if (text === null) throw new AuthsomeError("master_key_invalid", `the OS keyring has no entry ${describeEntry(pointer)} (named by ${machineKeyringPath(home)})`, { hint: "restore the entry, or move the pointer aside and join the fleet again (`authsome machine join`)" });
  return text;
}

/**
 * Makes the machine key: in the OS keyring when it answers (and AUTHSOME_KEYRING is not 0), else
 * in the key file; exclusive creates, so of two first uses one key wins.
 */
async function _create(home: string): Promise<void> {
  const text = await _newKeyText();
  const keyring = await import("../runtime/keyring.ts");
  if (keyring.keyringProblem() === undefined) {
    const { KEYRING_SERVICE } = await import("./key-custody.ts");
    const pointer = { v: 1, service: KEYRING_SERVICE, account: `${home} machine-${crypto.randomUUID().slice(0, 8)}` };
    try {
      await keyring.keyringSet(pointer, text);
      const kept = (await keyring.keyringGet(pointer)) === text;
      if (kept && (await createFileExclusive(machineKeyringPath(home), `${JSON.stringify(pointer)}\n`, 0o600))) return;
      await keyring.keyringDelete(pointer).catch(() => false);
      // Another first use wrote its pointer first (read next), or the keyring did not keep it (a file then).
      if (kept) return;
    } catch (error) {
      if (!(error instanceof AuthsomeError && error.code === "keyring_unavailable")) throw error;
    }
  }
  await createFileExclusive(machineKeyPath(home), text, 0o600);
}

const loaded = new Map<string, Promise<MachineKey | undefined>>();

/**
 * Loads the home's machine key; with `create`, makes it first when there is none. Undefined when
 * there is none and `create` is false. Cached per home for the process.
 */
export function loadMachineKey(home: string, create: boolean): Promise<MachineKey | undefined> {
  const cacheKey = `${create ? "c" : "r"}:${home}`;
  let found = loaded.get(cacheKey);
  if (found === undefined) {
    found = _load(home, create);
    loaded.set(cacheKey, found);
    found.catch(() => loaded.delete(cacheKey));
  }
  return found;
}

async function _load(home: string, create: boolean): Promise<MachineKey | undefined> {
  const path = machineKeyPath(home);
  const read = async () => (await _readKeyFile(path)) ?? (await _readKeyring(home));
  let text = await read();
  if (text === undefined) {
    if (!create) return undefined;
    await _create(home);
    text = await read();
  }
  let parsed: v.InferOutput<typeof KeyFileSchema>;
  let privateKey: CryptoKey;
  let publicKey: CryptoKey;
  try {
    parsed = v.parse(KeyFileSchema, JSON.parse(text ?? ""));
    privateKey = await crypto.subtle.importKey("pkcs8", new Uint8Array(decodeBase64(parsed.pkcs8)), ECDH, false, ["deriveBits"]);
    publicKey = await crypto.subtle.importKey("spki", new Uint8Array(decodeBase64(parsed.spki)), ECDH, true, []);
  } catch (cause) {
    throw new AuthsomeError("master_key_invalid", `${path} is not a machine key file`, { cause, hint: "restore it from a backup, or move it aside and join the fleet again (`authsome machine join`)" });
  }
  const { id, host } = machineIdentity(home);
  return { id, host, privateKey, publicKey, spki: parsed.spki, fingerprint: await fingerprintOf(parsed.spki) };
}

/** The AES key that ECDH of `privateKey` and `publicKey` gives for `info` (HKDF-SHA-256, `salt` bound in). */
async function _derive(privateKey: CryptoKey, publicKey: CryptoKey, salt: Uint8Array, info: string): Promise<CryptoKey> {
  const bits = await crypto.subtle.deriveBits({ name: "ECDH", public: publicKey }, privateKey, 256);
  const base = await crypto.subtle.importKey("raw", bits, "HKDF", false, ["deriveKey"]);
  return crypto.subtle.deriveKey({ name: "HKDF", hash: "SHA-256", salt: new Uint8Array(salt), info: encoder.encode(info) }, base, { name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
}

/** A data key wrapped for one machine. */
export const MachineWrapSchema = v.object({
  v: v.literal(1),
  /** The ephemeral public key (base64 SPKI). */
  epk: v.string(),
  key: v.object({ alg: v.literal("A256GCM"), nonce: v.string(), ct: v.string() }),
  /** The wrapped data key's `createdAt` (its key record's), so a stale wrapping is told apart. */
  createdAt: v.string(),
  approvedBy: v.string(),
  approvedAt: v.string(),
});
/** A parsed machine wrapping. */
export type MachineWrap = v.InferOutput<typeof MachineWrapSchema>;

function _wrapAad(profile: string, machineId: string, createdAt: string): string {
  return `authsome/v1/machine-key/${profile}/${machineId}/${createdAt}`;
}

/** Wraps a data key (base64) of `profile` for the machine whose public key is `spki`. */
export async function wrapForMachine(rawBase64: string, createdAt: string, profile: string, machineId: string, spki: string, approvedBy: string): Promise<MachineWrap> {
  const target = await crypto.subtle.importKey("spki", new Uint8Array(decodeBase64(spki)), ECDH, false, []);
  const ephemeral = (await crypto.subtle.generateKey(ECDH, true, ["deriveBits"])) as CryptoKeyPair;
  const epk = new Uint8Array(await crypto.subtle.exportKey("spki", ephemeral.publicKey));
  const aad = _wrapAad(profile, machineId, createdAt);
  const key: SealedBox = await sealJson(await _derive(ephemeral.privateKey, target, epk, aad), rawBase64, aad);
  return { v: 1, epk: encodeBase64(epk), key, createdAt, approvedBy, approvedAt: new Date().toISOString() };
}

/** Opens a wrapping made for `machine`; throws record_tampered when it does not open. */
export async function unwrapForMachine(machine: MachineKey, profile: string, wrap: MachineWrap, what: string): Promise<string> {
  const epkBytes = new Uint8Array(decodeBase64(wrap.epk));
  const epk = await crypto.subtle.importKey("spki", epkBytes, ECDH, false, []);
  const aad = _wrapAad(profile, machine.id, wrap.createdAt);
  const raw = await unsealJson(await _derive(machine.privateKey, epk, epkBytes, aad), wrap.key, aad, what);
  return v.parse(v.pipe(v.string(), v.base64()), raw);
}

/**
 * An AES key only this machine can compute (ECDH of its private key with its own public key):
 * what its own secrets in the shared store (its CA's private key) are sealed with.
 */
export async function machineSealingKey(machine: MachineKey, purpose: string): Promise<CryptoKey> {
  return _derive(machine.privateKey, machine.publicKey, encoder.encode(machine.id), `authsome/v1/machine-seal/${purpose}`);
}

/**
 * The machine keys handed out as a home's custody key (key-custody.ts): the vault gets the
 * private key where it would get the master key, and profile-keys.ts, finding it here, opens the
 * machine's wrappings instead of the master-key records. Keyed by the CryptoKey itself, as
 * key-fallbacks.ts does, so every `new Vault(...)` sees it without another argument.
 */
const bound = new WeakMap<CryptoKey, MachineKey>();

/** Marks `machine.privateKey` as a machine custody key. */
export function bindMachineKey(machine: MachineKey): CryptoKey {
  bound.set(machine.privateKey, machine);
  return machine.privateKey;
}

/** The machine a custody key belongs to, when it is a machine key rather than a master key. */
export function machineOf(key: CryptoKey): MachineKey | undefined {
  return bound.get(key);
}
