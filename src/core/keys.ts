/**
 * The master key: 256 random bits in `<home>/master.key` (mode 0600, created on first use) or
 * from `AUTHSOME_MASTER_KEY`. It never encrypts records directly: it wraps one random data key
 * per profile (src/core/vault.ts), so profiles have keys of their own.
 */
import { join } from "node:path";
import { decodeBase64, decodeHex, encodeBase64 } from "@oslojs/encoding";
import { importAesKey, randomBytes } from "./crypto.ts";
import { AuthsomeError } from "./errors.ts";
import { createFileExclusive, readRegularFile } from "./files.ts";

/** Where the master key came from (shown by `whoami`). */
export type KeySource = "env" | "file" | "passphrase";

/** A loaded master key. */
export interface MasterKey {
  key: CryptoKey;
  source: KeySource;
}

/** Path of the home's master key file. */
export function masterKeyPath(home: string): string {
  return join(home, "master.key");
}

/** Decodes a 32-byte key written as hex or base64 (standard or URL-safe). */
export function decodeKeyText(text: string, origin: string): Uint8Array {
  const trimmed = text.trim();
  let bytes: Uint8Array | undefined;
  try {
    if (/^[0-9a-f]{64}$/i.test(trimmed)) bytes = decodeHex(trimmed.toLowerCase());
    else bytes = decodeBase64(trimmed.replaceAll("-", "+").replaceAll("_", "/").padEnd(44, "="));
  } catch {
    bytes = undefined;
  }
  if (bytes === undefined || bytes.length !== 32) {
    throw new AuthsomeError("master_key_invalid", `${origin} is not a 256-bit key (64 hex digits or 44 base64 characters)`, {
      hint: "generate one with `openssl rand -base64 32`",
    });
  }
  return bytes;
}

/** Key files are a few hundred bytes; anything near this is not one. */
const KEY_FILE_MAX = 64 * 1024;

/**
 * Passphrase-protected master keys unlocked once and held by this process (`authsome serve`),
 * each under the exact text of the file it came from: the services the daemon makes later (one
 * per profile) open that file without the passphrase, and a changed file (another key) is never
 * opened by a held one. Memory only: a non-extractable CryptoKey, never written or logged.
 */
const held = new Map<string, CryptoKey>();

async function readOrCreateKeyFile(home: string, passphrase: string | undefined): Promise<string> {
  const path = masterKeyPath(home);
  try {
    // Checked before it is opened: a FIFO put at master.key would block the read forever.
    return await readRegularFile(path, KEY_FILE_MAX);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  const raw = randomBytes(32);
  const text = passphrase === undefined ? `${encodeBase64(raw)}\n` : await (await import("./passphrase.ts")).protectKey(raw, passphrase);
  // Two first-use processes may race here; exclusive create means exactly one key wins.
  await createFileExclusive(path, text, 0o600);
  return readRegularFile(path, KEY_FILE_MAX);
}

function _isProtected(text: string): boolean {
  return text.trimStart().startsWith("{");
}

/**
 * Loads the master key from the given text (env) or the home's key file, which is opened with
 * `passphrase` when it is passphrase-protected (src/core/passphrase.ts); without a passphrase,
 * `askPassphrase` allows a hidden prompt at the terminal.
 */
export async function loadMasterKey(home: string, envKey: string | undefined, passphrase?: string, askPassphrase = false): Promise<MasterKey> {
  if (envKey !== undefined) {
    return { key: await importAesKey(decodeKeyText(envKey, "AUTHSOME_MASTER_KEY")), source: "env" };
  }
  const text = await readOrCreateKeyFile(home, passphrase);
  const path = masterKeyPath(home);
  if (_isProtected(text)) {
    const kept = held.get(text);
    if (kept !== undefined) return { key: kept, source: "passphrase" };
    const { unprotectKey } = await import("./passphrase.ts");
    return { key: await importAesKey(await unprotectKey(text, passphrase, path, askPassphrase)), source: "passphrase" };
  }
  return { key: await importAesKey(decodeKeyText(text, path)), source: "file" };
}

/**
 * Unlocks the home's passphrase-protected `master.key` now, with `passphrase` or else a hidden
 * prompt at the terminal when `ask` is set, and holds it for the rest of the process. Returns
 * false when there is nothing to hold (no key file yet, or a plain one).
 */
export async function holdUnlockedKey(home: string, passphrase: string | undefined, ask: boolean): Promise<boolean> {
  const path = masterKeyPath(home);
  let text: string;
  try {
    text = await readRegularFile(path, KEY_FILE_MAX);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw error;
  }
  if (!_isProtected(text)) return false;
  if (!held.has(text)) {
    const { unprotectKey } = await import("./passphrase.ts");
    held.set(text, await importAesKey(await unprotectKey(text, passphrase, path, ask)));
  }
  return true;
}
