/**
 * Passphrase mode for the master key file: with `AUTHSOME_PASSPHRASE` set when the home is
 * created, `master.key` holds the master key sealed (AES-256-GCM) under a key-encryption key
 * derived from the passphrase with argon2id (memory-hard; WebCrypto has no such KDF, hence
 * hash-wasm). A copied home is then useless without the passphrase. Later commands take the
 * passphrase from `AUTHSOME_PASSPHRASE`, or ask for it at a terminal when the caller allows it.
 */
import { decodeBase64, encodeBase64 } from "@oslojs/encoding";
import * as v from "valibot";
import { importAesKey, randomBytes, type SealedBox, seal, unseal } from "./crypto.ts";
import { AuthsomeError } from "./errors.ts";

/** OWASP's argon2id minimum (19 MiB, 2 passes); about 50-100 ms here, paid once per process. */
const PARAMS = { memorySize: 19_456, iterations: 2, parallelism: 1 } as const;
const AAD = "authsome/v1/master-key";

/** A passphrase-protected master key file. */
export const ProtectedKeySchema = v.object({
  v: v.literal(1),
  kdf: v.literal("argon2id"),
  m: v.pipe(v.number(), v.integer(), v.minValue(8_192)),
  t: v.pipe(v.number(), v.integer(), v.minValue(1)),
  p: v.pipe(v.number(), v.integer(), v.minValue(1)),
  salt: v.pipe(v.string(), v.base64()),
  key: v.object({ alg: v.literal("A256GCM"), nonce: v.string(), ct: v.string() }),
});

async function deriveKek(passphrase: string, salt: Uint8Array, params: { m: number; t: number; p: number }): Promise<CryptoKey> {
  const { argon2id } = await import("./argon2.ts");
  const raw = await argon2id({ password: passphrase, salt, memorySize: params.m, iterations: params.t, parallelism: params.p, hashLength: 32, outputType: "binary" });
  return importAesKey(raw);
}

/** Seals 32 raw key bytes under a passphrase; returns the file's text. */
export async function protectKey(raw: Uint8Array, passphrase: string): Promise<string> {
  if (passphrase.length < 8) throw new AuthsomeError("usage", "AUTHSOME_PASSPHRASE must be at least 8 characters");
  const salt = randomBytes(16);
  const params = { m: PARAMS.memorySize, t: PARAMS.iterations, p: PARAMS.parallelism };
  const box: SealedBox = await seal(await deriveKek(passphrase, salt, params), raw, AAD);
  return `${JSON.stringify({ v: 1, kdf: "argon2id", ...params, salt: encodeBase64(salt), key: box })}\n`;
}

function _parseProtected(text: string, path: string): v.InferOutput<typeof ProtectedKeySchema> {
  try {
    return v.parse(ProtectedKeySchema, JSON.parse(text));
  } catch (cause) {
    throw new AuthsomeError("master_key_invalid", `${path} is not a valid protected key file`, { cause });
  }
}

/** The master key, or null when the passphrase is wrong (AES-GCM refuses the sealed box). */
async function _open(parsed: v.InferOutput<typeof ProtectedKeySchema>, passphrase: string): Promise<Uint8Array | null> {
  const kek = await deriveKek(passphrase, decodeBase64(parsed.salt), parsed);
  try {
    return await unseal(kek, parsed.key, AAD, "the master key");
  } catch {
    return null;
  }
}

/** Tries at the passphrase prompt, and how long each may wait. */
const TRIES = 3;
const PROMPT_TIMEOUT_MS = 300_000;

async function _askAtTerminal(parsed: v.InferOutput<typeof ProtectedKeySchema>, path: string): Promise<Uint8Array> {
  const { promptLine } = await import("../runtime/prompt.ts");
  for (let attempt = 1; attempt <= TRIES; attempt++) {
    const question = attempt === 1 ? `Passphrase for ${path}: ` : `Wrong passphrase; try again (${TRIES - attempt + 1} left): `;
    const raw = await _open(parsed, await promptLine(question, { hidden: true, timeoutMs: PROMPT_TIMEOUT_MS }));
    if (raw !== null) return raw;
  }
  throw new AuthsomeError("master_key_invalid", `${TRIES} wrong passphrases: ${path} stays locked`, { hint: "check the passphrase and try again, or set AUTHSOME_PASSPHRASE" });
}

/**
 * Opens a protected master key file with the passphrase; without one, asks at the terminal
 * (hidden, three tries) when `ask` is set and stdin is a terminal.
 */
export async function unprotectKey(text: string, passphrase: string | undefined, path: string, ask = false): Promise<Uint8Array> {
  const { stdinIsTty } = await import("../runtime/index.ts");
  if (passphrase === undefined && !(ask && stdinIsTty())) {
    throw new AuthsomeError("master_key_invalid", `${path} is protected by a passphrase`, { hint: "set AUTHSOME_PASSPHRASE, or run the command at a terminal to be asked for it" });
  }
  const parsed = _parseProtected(text, path);
  if (passphrase === undefined) return _askAtTerminal(parsed, path);
  const raw = await _open(parsed, passphrase);
  if (raw === null) throw new AuthsomeError("master_key_invalid", `the passphrase does not open ${path}`, { hint: "check AUTHSOME_PASSPHRASE" });
  return raw;
}

