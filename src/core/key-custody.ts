/**
 * Where the master key is kept, and the order in which that is decided:
 *
 * 1. `AUTHSOME_MASTER_KEY` (CI, containers) always wins; nothing in the home is read.
 * 2. `<home>/master.key` when it exists (plain, or passphrase-protected): a home that has one
 *    keeps using it. Keys are never moved silently; `authsome key rotate --to keyring` moves it.
 * 3. `<home>/master.keyring`: a pointer (service and account, no secret) to an entry of the OS
 *    keyring. When the keyring cannot be reached the command fails in one line; it never makes
 *    a new key, which would not open this home's vault.
 * 4. Neither, and the store lists this machine as approved (src/core/machines.ts): its own key
 *    pair (`<home>/machine.key`) opens the data keys wrapped for it.
 * 5. Neither, and the store already holds profiles: `machine_no_access`, never a new key (it
 *    would not open them).
 * 6. Neither (a new home, an empty store): a new key goes to the OS keyring when one answers (and
 *    no passphrase was asked for), else to `master.key` (0600) with one line saying why.
 *    `AUTHSOME_KEYRING=0` skips the keyring.
 *
 * During a rotation the new key also sits in `master.key.next` or `master.keyring.next`; it is
 * loaded as a fallback so records re-wrapped so far open too (src/core/rotate.ts).
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import { encodeBase64 } from "@oslojs/encoding";
import { importAesKey, randomBytes, randomToken } from "./crypto.ts";
import { AuthsomeError } from "./errors.ts";
import { createFileExclusive } from "./files.ts";
import { setFallbackKeys } from "./key-fallbacks.ts";
import { decodeKeyText, loadMasterKey, masterKeyPath, type KeySource } from "./keys.ts";
import { machineIdentity } from "./machine.ts";
import type { Store } from "./storage/index.ts";
import { keyringName, keyringProblem } from "../runtime/keyring.ts";

/** The keyring service name of every authsome entry; the account names the home. */
export const KEYRING_SERVICE = "authsome";

/** Where a loaded master key came from; `machine`: no master key, this machine's own key (machines.ts). */
export type CustodySource = KeySource | "keyring" | "machine";

/** A loaded master key. */
export interface CustodyKey {
  key: CryptoKey;
  source: CustodySource;
}

/** What the key loader needs from the service context. */
export interface CustodyContext {
  home: string;
  masterKey: string | undefined;
  passphrase: string | undefined;
  askPassphrase: boolean;
}

/** A keyring pointer file: names the entry, holds no secret. */
export const KeyringPointerSchema = v.object({ v: v.literal(1), service: v.pipe(v.string(), v.minLength(1)), account: v.pipe(v.string(), v.minLength(1)) });
/** A parsed keyring pointer. */
export type KeyringPointer = v.InferOutput<typeof KeyringPointerSchema>;

/** The home's key files: the current ones and a rotation's pending ones. */
export function keyPaths(home: string): { file: string; keyring: string; nextFile: string; nextKeyring: string } {
  const file = masterKeyPath(home);
  return { file, keyring: join(home, "master.keyring"), nextFile: `${file}.next`, nextKeyring: join(home, "master.keyring.next") };
}

/**
 * Reads one of the small key files; undefined when it does not exist. Anything but a regular
 * file of at most 64 KiB is refused at once: reading a FIFO put there would block forever.
 */
export function readKeyFile(path: string): string | undefined {
  try {
    const found = statSync(path);
    if (!found.isFile() || found.size > 65_536) {
      throw new AuthsomeError("storage_failed", `${path} is not a regular file of at most 64 KiB`, { hint: "move it aside; authsome writes only regular files" });
    }
    return readFileSync(path, "utf8");
  } catch (error) {
    if (error instanceof AuthsomeError) throw error;
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new AuthsomeError("storage_failed", `cannot read ${path}`, { cause: error });
  }
}

/** Reads a keyring pointer; undefined when the file does not exist. */
export function readPointer(path: string): KeyringPointer | undefined {
  const text = readKeyFile(path);
  if (text === undefined) return undefined;
  try {
    return v.parse(KeyringPointerSchema, JSON.parse(text));
  } catch (cause) {
    throw new AuthsomeError("master_key_invalid", `${path} is not a keyring pointer ({"v":1,"service":...,"account":...})`, { cause, hint: "restore it from a backup, or set AUTHSOME_MASTER_KEY" });
  }
}

/** How one keyring entry is named in messages and by `whoami`. */
export function describeEntry(pointer: KeyringPointer): string {
  return `${keyringName()}, service "${pointer.service}", account "${pointer.account}"`;
}

/** Opens the key a pointer names. */
export async function openKeyringKey(pointer: KeyringPointer, path: string): Promise<CryptoKey> {
  const { keyringGet } = await import("../runtime/keyring.ts");
  let text: string | null;
  try {
    text = await keyringGet(pointer);
  } catch (error) {
    if (!(error instanceof AuthsomeError)) throw error;
    throw new AuthsomeError(error.code, `the master key is in the OS keyring (${describeEntry(pointer)}, named by ${path}), but ${error.message}`, { cause: error, ...(error.hint === undefined ? {} : { hint: error.hint }) });
  }
  if (text === null) {
    throw new AuthsomeError("master_key_invalid", `the OS keyring has no entry ${describeEntry(pointer)} (named by ${path})`, { hint: "restore the entry, or set AUTHSOME_MASTER_KEY to this home's key" });
  }
  return importAesKey(decodeKeyText(text, `the keyring entry "${pointer.account}"`));
}

/** Opens a rotation's pending key file (plain or passphrase-protected, like master.key). */
export async function openPendingFile(path: string, context: CustodyContext): Promise<CustodyKey> {
  const text = readKeyFile(path) ?? "";
  if (!text.trimStart().startsWith("{")) return { key: await importAesKey(decodeKeyText(text, path)), source: "file" };
  const { unprotectKey } = await import("./passphrase.ts");
  return { key: await importAesKey(await unprotectKey(text, context.passphrase, path, context.askPassphrase)), source: "passphrase" };
}

/** The keys present in the home: the current one first, then any pending one. */
async function _present(context: CustodyContext): Promise<CustodyKey[]> {
  const paths = keyPaths(context.home);
  const found: CustodyKey[] = [];
  if (existsSync(paths.file)) found.push(await loadMasterKey(context.home, undefined, context.passphrase, context.askPassphrase));
  else {
    const pointer = readPointer(paths.keyring);
    if (pointer !== undefined) found.push({ key: await openKeyringKey(pointer, paths.keyring), source: "keyring" });
  }
  const pending: (() => Promise<CustodyKey>)[] = [];
  if (existsSync(paths.nextFile)) pending.push(() => openPendingFile(paths.nextFile, context));
  const next = readPointer(paths.nextKeyring);
  if (next !== undefined) pending.push(async () => ({ key: await openKeyringKey(next, paths.nextKeyring), source: "keyring" }));
  for (const open of pending) {
    try {
      found.push(await open());
    } catch (error) {
      // With the current key readable, an unreachable pending key only hides records already
      // re-wrapped; those fail on their own, naming their key. Without one, nothing else works.
      if (found.length === 0 || !(error instanceof AuthsomeError && error.code === "keyring_unavailable")) throw error;
    }
  }
  return found;
}

/**
 * Loads the home's master key (see the order above), creating it on first use. `notice` gets
 * one line when a new home's key goes to the file because the keyring cannot be used; `store`
 * opens the store, asked only when the home has no key (steps 4 and 5).
 */
export async function loadCustodyKey(context: CustodyContext, notice?: (line: string) => void, store?: () => Promise<Store>): Promise<CustodyKey> {
  if (context.masterKey !== undefined) return loadMasterKey(context.home, context.masterKey);
  const [primary, ...rest] = await _present(context);
  if (primary === undefined) {
    if (store !== undefined) {
      const opened = await store();
      const machines = await import("./machines.ts");
      const machine = await machines.openMachineCustody(context.home, opened);
      if (machine !== undefined) return machine;
      if (await machines.storeHoldsProfiles(opened)) {
        // A process creating this home's key writes it before any record: one that did so
        // between our look and the store's answer left a key we can read now.
        const [created, ...pending] = await _present(context);
        if (created !== undefined) return _use(created, pending);
        throw machines.noAccessError(opened, "the home has no master key (master.key, master.keyring or AUTHSOME_MASTER_KEY) and the store does not list this machine as approved", machineIdentity(context.home));
      }
    }
    return _create(context, notice);
  }
  return _use(primary, rest);
}

/** The current key, with the pending ones as fallbacks (for records re-wrapped already). */
function _use(primary: CustodyKey, pending: CustodyKey[]): CustodyKey {
  setFallbackKeys(primary.key, pending.map((k) => k.key));
  return primary;
}

async function _create(context: CustodyContext, notice: ((line: string) => void) | undefined): Promise<CustodyKey> {
  if (context.passphrase === undefined) {
    const problem = keyringProblem();
    let reason = problem;
    if (problem === undefined) {
      try {
        return await _createInKeyring(context);
      } catch (error) {
        if (!(error instanceof AuthsomeError && error.code === "keyring_unavailable")) throw error;
        reason = error.message;
      }
    }
    if (reason !== undefined && !reason.includes("AUTHSOME_KEYRING=0")) {
      notice?.(`authsome: OS keyring not used (${reason}); the new master key is kept in ${masterKeyPath(context.home)} (mode 0600)`);
    }
  }
  return loadMasterKey(context.home, undefined, context.passphrase, context.askPassphrase);
}

/** Makes a new keyring entry for this home, unique per creation, so a recreated home never meets an old entry. */
export async function newKeyringKey(home: string): Promise<{ pointer: KeyringPointer; text: string }> {
  const { keyringGet, keyringSet } = await import("../runtime/keyring.ts");
  const pointer: KeyringPointer = { v: 1, service: KEYRING_SERVICE, account: `${home} ${randomToken(6)}` };
  const text = encodeBase64(randomBytes(32));
  await keyringSet(pointer, text);
  if ((await keyringGet(pointer)) !== text) {
    throw new AuthsomeError("keyring_unavailable", `the OS keyring (${keyringName()}) did not keep the key it was given (read back something else)`);
  }
  return { pointer, text };
}

async function _createInKeyring(context: CustodyContext): Promise<CustodyKey> {
  const { pointer, text } = await newKeyringKey(context.home);
  const paths = keyPaths(context.home);
  // Two first uses may race: each made its own entry; the pointer created first wins.
  if (await createFileExclusive(paths.keyring, `${JSON.stringify(pointer)}\n`, 0o600)) {
    return { key: await importAesKey(decodeKeyText(text, "the new keyring entry")), source: "keyring" };
  }
  const { keyringDelete } = await import("../runtime/keyring.ts");
  await keyringDelete(pointer).catch(() => false);
  return loadCustodyKey(context);
}

/** What `whoami` and `doctor` say about the key, found without unlocking or creating it. */
export interface CustodyDescription {
  /** env, file, `passphrase (locked)`, keyring, machine, or `not created yet`. */
  key_mode: string;
  /** AUTHSOME_MASTER_KEY, the file's path, or the keyring entry and its pointer file. */
  key_source: string;
  /** Set while a rotation's pending key exists (interrupted, or running now). */
  key_rotation?: string;
}

/** Describes the home's key custody without reading a secret, calling the keyring or prompting. */
export function describeCustody(home: string, envKey: string | undefined, passphrase?: string): CustodyDescription {
  if (envKey !== undefined) return { key_mode: "env", key_source: "AUTHSOME_MASTER_KEY" };
  const paths = keyPaths(home);
  const pending = existsSync(paths.nextFile) || existsSync(paths.nextKeyring)
    ? { key_rotation: "a key rotation is running or was interrupted: run `authsome key rotate` to finish it" } : {};
  const text = readKeyFile(paths.file);
  if (text !== undefined) {
    const locked = text.trimStart().startsWith("{");
    return { key_mode: locked ? "passphrase (locked)" : "file", key_source: `${paths.file}${locked ? " (passphrase-protected)" : ""}`, ...pending };
  }
  const pointer = readPointer(paths.keyring);
  if (pointer !== undefined) return { key_mode: "keyring", key_source: `${describeEntry(pointer)} (named by ${paths.keyring})`, ...pending };
  // A joined machine of a shared store (src/core/machine-keys.ts): its key file or keyring pointer.
  const machineKey = [join(home, "machine.key"), join(home, "machine.keyring")].find((path) => existsSync(path));
  if (machineKey !== undefined) return { key_mode: "machine", key_source: `${machineKey} (machine ${machineIdentity(home).id}; opens the data keys the store wraps for it)`, ...pending };
  const problem = passphrase === undefined ? keyringProblem() : "a passphrase is set";
  const where = problem === undefined ? `the OS keyring (${keyringName()}) on first use, else ${paths.file}` : `${paths.file} on first use (keyring: ${problem})`;
  return { key_mode: "not created yet", key_source: where, ...pending };
}
