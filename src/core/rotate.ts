/**
 * `authsome key rotate`: a new master key for the home, every profile's data key re-wrapped
 * under it, and (with `reencrypt`) every record sealed again under a new data key per profile.
 *
 * Safe against a kill -9 at any point, by never overwriting the only copy of anything:
 * 1. the new key is written beside the current one (`master.key.next`, or a new keyring entry
 *    named by `master.keyring.next`): from then on every reader loads both (key-custody.ts);
 * 2. each key record is re-wrapped in one atomic write (and with `reencrypt` the profile's new
 *    data key waits in `key-next` until every record is sealed under it; vault.ts);
 * 3. the switch is one rename of the pending file over the current one (from a file to the
 *    keyring: unlinking master.key, after which the pending pointer is the key);
 * 4. only then is the old key removed (its keyring entry deleted).
 * At every point each record opens with the old key or the new one, and running the command
 * again finishes an interrupted rotation with the pending key it finds.
 */
import { existsSync, readFileSync } from "node:fs";
import { rename, unlink } from "node:fs/promises";
import { join } from "node:path";
import { encodeBase64 } from "@oslojs/encoding";
import { importAesKey, randomBytes } from "./crypto.ts";
import { AuthsomeError } from "./errors.ts";
import { writeFileAtomic } from "./files.ts";
import { setFallbackKeys, setSuccessor } from "./key-fallbacks.ts";
import { describeEntry, KEYRING_SERVICE, keyPaths, newKeyringKey, openKeyringKey, openPendingFile, readPointer, type CustodySource } from "./key-custody.ts";
import { decodeKeyText } from "./keys.ts";
import type { ServiceCore } from "./service.ts";
import { resealSharedPlugins } from "./shared-plugins.ts";
import type { Store } from "./storage/index.ts";
import { Vault } from "./vault.ts";
import { processAlive } from "../runtime/index.ts";

/** Options of {@link rotateMasterKey}. */
export interface RotateOptions {
  /** Where the new key goes; default: where the current one is. */
  to?: "file" | "keyring";
  /** Also seal every record again under a new data key per profile. */
  reencrypt?: boolean;
}

/** What a rotation did. */
export interface RotateResult {
  /** Where the new key is (a path, or the keyring entry). */
  key_source: string;
  to: "file" | "keyring";
  /** True when it finished a rotation that had been interrupted. */
  resumed: boolean;
  /** Per profile: whether its key record was re-wrapped (or already was), and records re-sealed. */
  profiles: { profile: string; key: "rewrapped" | "unchanged"; resealed: number }[];
}

interface Pending {
  key: CryptoKey;
  to: "file" | "keyring";
  where: string;
}

/** Throws when a daemon of this home is running: it holds the old key (and data keys) in memory. */
function _refuseRunningDaemon(home: string): void {
  let pid: unknown;
  try {
    pid = (JSON.parse(readFileSync(join(home, "daemon.json"), "utf8")) as { pid?: unknown }).pid;
  } catch {
    return;
  }
  if (typeof pid !== "number" || !Number.isInteger(pid) || pid <= 0) return;
  if (!processAlive(pid)) return;
  throw new AuthsomeError("usage", `the daemon of this home (pid ${pid}) is running with the current key in memory`, { hint: "stop it (Ctrl-C on `authsome serve`, or kill its pid), rotate, then start it again" });
}

/** The pending key of an interrupted rotation, if one was left. */
async function _findPending(core: ServiceCore): Promise<Pending | undefined> {
  const paths = keyPaths(core.context.home);
  if (existsSync(paths.nextFile)) return { key: (await openPendingFile(paths.nextFile, core.context)).key, to: "file", where: paths.file };
  const pointer = readPointer(paths.nextKeyring);
  if (pointer === undefined) return undefined;
  return { key: await openKeyringKey(pointer, paths.nextKeyring), to: "keyring", where: describeEntry(pointer) };
}

/** Writes the new key beside the current one (step 1); nothing reads it as the key yet. */
async function _createPending(core: ServiceCore, to: "file" | "keyring", current: CustodySource): Promise<Pending> {
  const paths = keyPaths(core.context.home);
  if (to === "keyring") {
    const { pointer, text } = await newKeyringKey(core.context.home);
    await writeFileAtomic(paths.nextKeyring, `${JSON.stringify(pointer)}\n`, 0o600);
    return { key: await importAesKey(decodeKeyText(text, "the new keyring entry")), to, where: describeEntry(pointer) };
  }
  const raw = randomBytes(32);
  let text = `${encodeBase64(raw)}\n`;
  if (current === "passphrase") {
    if (core.context.passphrase === undefined) {
      throw new AuthsomeError("usage", "the master key is passphrase-protected: its successor needs the passphrase too", { hint: "set AUTHSOME_PASSPHRASE, or rotate to the keyring with --to keyring" });
    }
    text = await (await import("./passphrase.ts")).protectKey(raw, core.context.passphrase);
  }
  await writeFileAtomic(paths.nextFile, text, 0o600);
  return { key: await importAesKey(raw), to, where: paths.file };
}

/** Every profile with a key record in the store. */
async function _profiles(store: Store): Promise<string[]> {
  const keys = await store.storage.getKeys("p");
  return [...new Set(keys.map((key) => /^p:([^:]+):key(?:-next)?$/.exec(key)?.[1]).filter((p): p is string => p !== undefined))].sort();
}

/** Step 3 and 4: makes the pending key the home's key, then removes the old one. */
async function _switch(home: string, pending: Pending): Promise<void> {
  const paths = keyPaths(home);
  const oldPointer = readPointer(paths.keyring);
  if (pending.to === "file") {
    await rename(paths.nextFile, paths.file);
  } else {
    // With master.key gone and no current pointer, the pending pointer is the key (key-custody.ts).
    if (existsSync(paths.file)) await unlink(paths.file);
    await rename(paths.nextKeyring, paths.keyring);
  }
  if (pending.to === "file") await unlink(paths.keyring).catch(() => {});
  // From a file to a file too: a `--to keyring` killed after making its entry, before its
  // pointer, left the home on its file and the entry behind. One try only there: a home that
  // never used the keyring should not wait on a busy one.
  const keep = pending.to === "keyring" ? readPointer(paths.keyring)?.account : undefined;
  await _deleteStaleEntries(home, keep, oldPointer === undefined && pending.to === "file" ? 1 : SWEEP_TRIES);
}

/**
 * Deletes this home's keyring entries other than `keep`: the old key, and any left by a
 * rotation killed between making its entry and writing its pointer. Entries of other homes
 * (another path before the id) are not touched. A keyring that does not answer (a busy D-Bus)
 * is asked again, up to `tries` times ({@link SWEEP_TRIES}); after that the entries linger until the
 * next rotation, which sweeps again (the switch itself is done: nothing reads them).
 */
async function _deleteStaleEntries(home: string, keep: string | undefined, tries: number): Promise<void> {
  const { keyringAccounts, keyringDelete } = await import("../runtime/keyring.ts");
  const ours = new RegExp(`^${home.replace(/[\\^$.*+?()[\]{}|]/g, "\\$&")} [A-Za-z0-9_-]{8}$`);
  for (let attempt = 1; attempt <= tries; attempt += 1) {
    const accounts = await keyringAccounts(KEYRING_SERVICE).catch(() => null);
    if (accounts === null) continue;
    let left = 0;
    for (const account of accounts) {
      if (account === keep || !ours.test(account)) continue;
      if (!(await keyringDelete({ service: KEYRING_SERVICE, account }).then(() => true, () => false))) left += 1;
    }
    if (left === 0) return;
  }
}

const SWEEP_TRIES = 3;

/** Re-wraps (or re-encrypts) every profile under `target`, opening with `current` or `target`. */
async function _rewrapAll(store: Store, current: CryptoKey, target: CryptoKey, reencrypt: boolean): Promise<RotateResult["profiles"]> {
  setFallbackKeys(target, [current]);
  const done: RotateResult["profiles"] = [];
  for (const profile of await _profiles(store)) {
    const vault = new Vault(store.storage, store.lock, profile, target, store.locate);
    // An interrupted re-encryption is finished whatever was asked: its records need its key.
    if (reencrypt || (await vault.hasNextKey())) {
      done.push({ profile, key: "rewrapped", resealed: await _reencrypt(store, vault, profile, target) });
    } else done.push({ profile, key: await _rewrap(vault, target), resealed: 0 });
  }
  return done;
}

/** Most passes over a profile's records; a pass after the first only finds concurrent writes. */
const MAX_PASSES = 4;

/**
 * Seals every record of the profile under its new data key, provider by provider under the
 * provider lock (the lock logins and refreshes write under, so none of them writes with the old
 * key after its provider was done), until a pass finds nothing left; then switches the key.
 */
async function _reencrypt(store: Store, vault: Vault, profile: string, target: CryptoKey): Promise<number> {
  await vault.beginNextKey(target);
  let total = 0;
  for (let pass = 0; pass < MAX_PASSES; pass++) {
    let count = 0;
    const clients = (await store.storage.getKeys(`p:${profile}:client`)).map((key) => key.split(":")[3] ?? "").filter(Boolean);
    for (const provider of [...new Set([...(await vault.providerNames()), ...clients])]) {
      count += await vault.withProviderLock(provider, async () => {
        let n = 0;
        for (const connection of await vault.connectionNames(provider)) if (await vault.reseal(provider, connection)) n++;
        if (await vault.reseal(provider)) n++;
        return n;
      });
    }
    // Shared plugin records are sealed under the default profile's data key (shared-plugins.ts).
    if (profile === "default") count += await resealSharedPlugins(store, target);
    total += count;
    if (count === 0) break;
  }
  await vault.promoteNextKey(target);
  return total;
}

async function _rewrap(vault: Vault, target: CryptoKey): Promise<"rewrapped" | "unchanged"> {
  const outcome = await vault.rewrapKey(target);
  return outcome === "rewrapped" ? "rewrapped" : "unchanged";
}

/** One entry per profile in its own audit log: `key_rotate`, or `key_reencrypt` when its records were sealed again. */
async function _audit(core: ServiceCore, store: Store, profiles: RotateResult["profiles"]): Promise<void> {
  const { openAuditLog } = await import("./audit.ts");
  for (const { profile, resealed } of profiles) {
    await (await openAuditLog(core.context.home, profile, store, core.context.actor)).recordMany([{ action: resealed > 0 ? "key_reencrypt" : "key_rotate", outcome: "ok" }]);
  }
}

/** Rotates the home's master key (see the steps above). */
export async function rotateMasterKey(core: ServiceCore, options: RotateOptions = {}): Promise<RotateResult> {
  if (core.context.masterKey !== undefined) {
    throw new AuthsomeError("usage", "the master key comes from AUTHSOME_MASTER_KEY, which authsome cannot replace", { hint: "rotation replaces a key kept by the home (master.key or the OS keyring); a store opened only with AUTHSOME_MASTER_KEY cannot be rotated by authsome" });
  }
  const { home } = core.context;
  _refuseRunningDaemon(home);
  const store = await core.store();
  return store.lock.withLock("master-key", async () => {
    // The key this core holds (not a fresh copy): it is the one given a successor below.
    const current = await core.masterKey();
    if (current.source === "machine") {
      throw new AuthsomeError("usage", "this machine has no master key (it reads the store through its machine key)", { hint: "rotate on a machine that holds the fleet's master key, then `authsome machine approve` the others again" });
    }
    const found = await _findPending(core);
    if (found !== undefined && options.to !== undefined && options.to !== found.to) {
      throw new AuthsomeError("usage", `an interrupted rotation to the ${found.to === "file" ? "key file" : "keyring"} must finish first`, { hint: "run `authsome key rotate` without --to, then rotate again" });
    }
    const defaultTo = current.source === "keyring" ? "keyring" : "file";
    const pending = found ?? (await _createPending(core, options.to ?? defaultTo, current.source));
    const profiles = await _rewrapAll(store, current.key, pending.key, options.reencrypt === true);
    await _switch(home, pending);
    // A profile made meanwhile by a process still holding the old key is caught here.
    const again = await _rewrapAll(store, current.key, pending.key, false);
    for (const p of again) if (!profiles.some((q) => q.profile === p.profile)) profiles.push(p);
    setFallbackKeys(pending.key, []);
    // This process may go on with the old key loaded (a library caller): it names its successor.
    setSuccessor(current.key, pending.key);
    await _audit(core, store, profiles);
    return { key_source: pending.where, to: pending.to, resumed: found !== undefined, profiles };
  }, { timeoutMs: 30_000 });
}
