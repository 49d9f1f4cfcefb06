/**
 * Authenticated encryption for secrets at rest: AES-256-GCM through WebCrypto, a fresh 96-bit
 * nonce per write, and associated data that binds a ciphertext to the record it belongs to, so
 * a ciphertext copied into another record fails to open.
 */
import { decodeBase64, encodeBase64, encodeBase64urlNoPadding, encodeHexLowerCase } from "@oslojs/encoding";
import { AuthsomeError } from "./errors.ts";

/** A sealed secret as stored. */
export interface SealedBox {
  alg: "A256GCM";
  nonce: string;
  ct: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Cryptographically random bytes. */
export function randomBytes(length: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(length));
}

/** A random URL-safe token (for one-time form URLs, daemon and proxy credentials). */
export function randomToken(bytes = 24): string {
  return encodeBase64urlNoPadding(randomBytes(bytes));
}

/** Imports 32 raw bytes as a non-extractable AES-GCM key. */
export async function importAesKey(raw: Uint8Array): Promise<CryptoKey> {
  if (raw.length !== 32) throw new AuthsomeError("master_key_invalid", "an encryption key must be 32 bytes");
  return crypto.subtle.importKey("raw", new Uint8Array(raw), { name: "AES-GCM" }, false, ["encrypt", "decrypt"]);
}

/** Encrypts bytes with associated data `aad`. */
export async function seal(key: CryptoKey, plaintext: Uint8Array, aad: string): Promise<SealedBox> {
  const nonce = randomBytes(12);
  const ct = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv: new Uint8Array(nonce), additionalData: encoder.encode(aad) },
    key,
    new Uint8Array(plaintext),
  );
  return { alg: "A256GCM", nonce: encodeBase64(nonce), ct: encodeBase64(new Uint8Array(ct)) };
}

/**
 * Decrypts a sealed box. Any failure (edited ciphertext, wrong record, wrong key) throws
 * `record_tampered` naming `what`; the caller decides whether a wrong key is more likely.
 */
export async function unseal(key: CryptoKey, box: SealedBox, aad: string, what: string): Promise<Uint8Array> {
  try {
    const plain = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: new Uint8Array(decodeBase64(box.nonce)), additionalData: encoder.encode(aad) },
      key,
      new Uint8Array(decodeBase64(box.ct)),
    );
    return new Uint8Array(plain);
  } catch (cause) {
    throw new AuthsomeError("record_tampered", `${what} failed its integrity check: it was modified, moved from another record, or sealed with another key`, {
      cause,
      hint: "log in again to replace it (`authsome login ... --force`); other records are unaffected",
    });
  }
}

/** Seals a JSON value. */
export function sealJson(key: CryptoKey, value: unknown, aad: string): Promise<SealedBox> {
  return seal(key, encoder.encode(JSON.stringify(value)), aad);
}

/** Opens a sealed JSON value (the caller validates its shape). */
export async function unsealJson(key: CryptoKey, box: SealedBox, aad: string, what: string): Promise<unknown> {
  return JSON.parse(decoder.decode(await unseal(key, box, aad, what)));
}

/** SHA-256 as lower-case hex. */
export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", encoder.encode(text));
  return encodeHexLowerCase(new Uint8Array(digest));
}

/** Compares two strings in time independent of where they differ (tokens, passwords). */
export function constantTimeEqual(a: string, b: string): boolean {
  const x = encoder.encode(a);
  const y = encoder.encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}
