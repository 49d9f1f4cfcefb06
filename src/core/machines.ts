/**
 * Machines of a fleet sharing one store (issue 14 part 6; docs/fleet.md, "Machines"): each has
 * its own key pair (machine-keys.ts); `join` puts its public key in the store as a request,
 * `approve` (on a machine with access) wraps every profile data key for it, `remove` deletes its
 * wrappings. A machine never receives another machine's master key.
 *
 * Store records: `machine:<id>` (id, hostname, public key, when requested, approved, last seen)
 * and `machine:<id>:key:<profile>` (a data key wrapped for that machine). A home holding the
 * master key (the one that made the fleet's profiles, or one given the key by hand) needs no
 * approval, yet is listed too: it puts its own record in, marked `masterKey`, once its key has
 * opened a profile (when it approves a machine, lists the machines, or runs `join`).
 */
import * as v from "valibot";
import { AuthsomeError } from "./errors.ts";
import type { CustodyKey } from "./key-custody.ts";
import { bindMachineKey, fingerprintOf, loadMachineKey, type MachineKey, wrapForMachine } from "./machine-keys.ts";
import { describeCustody } from "./key-custody.ts";
import { parseStored, ProfileKeys } from "./profile-keys.ts";
import type { ServiceCore } from "./service.ts";
import type { Store } from "./storage/index.ts";

/** A machine as the store knows it. */
export const MachineRecordSchema = v.object({
  v: v.literal(1),
  id: v.pipe(v.string(), v.regex(/^[0-9a-f]{32}$/)),
  hostname: v.string(),
  publicKey: v.string(),
  fingerprint: v.string(),
  requestedAt: v.string(),
  approvedAt: v.optional(v.string()),
  /** `<machine id> (<hostname>)` of the machine that approved it. */
  approvedBy: v.optional(v.string()),
  lastSeen: v.optional(v.string()),
  /** Holds the fleet's master key (needs no approval, has no wrappings). */
  masterKey: v.optional(v.boolean()),
});
/** A parsed machine record. */
export type MachineRecord = v.InferOutput<typeof MachineRecordSchema>;

/** How often a machine's `lastSeen` is written at most (one store write per command otherwise). */
const SEEN_EVERY_MS = 3_600_000;

const recordKey = (id: string): string => `machine:${id}`;
/** Store key of the wrapping of `profile`'s data key for machine `id`. */
export const wrapKey = (id: string, profile: string): string => `machine:${id}:key:${profile}`;

/** Reads a machine record; null when the store has none. */
export async function readMachine(store: Store, id: string): Promise<MachineRecord | null> {
  const stored = await store.storage.getItem(recordKey(id));
  return stored === null ? null : parseStored(MachineRecordSchema, stored, `the record of machine ${id} (${store.locate(recordKey(id))})`, "remove it with `authsome machine remove <id>` and join again");
}

/** The clear error of a machine that has no access (code `machine_no_access`). */
export function noAccessError(store: Store, detail: string, machine?: { id: string; host: string }): AuthsomeError {
  const who = machine === undefined ? "this machine" : `this machine (${machine.id}, ${machine.host})`;
  if (store.kind !== "redis") {
    // A home's own store: no other machine to approve it; its key was lost or moved.
    return new AuthsomeError("machine_no_access", `this home has no key for the profiles in its store ${store.description}: ${detail}`, {
      hint: "restore <home>/master.key (or the keyring entry master.keyring names) from a backup, or set AUTHSOME_MASTER_KEY; a new key would not open them",
    });
  }
  return new AuthsomeError("machine_no_access", `${who} has no access to the profiles in ${store.description}: ${detail}`, {
    hint: "run `authsome machine join` here, then `authsome machine approve <id>` on a machine that has access (or set AUTHSOME_MASTER_KEY to the fleet's master key)",
  });
}

/** True when the store holds a profile key record (profiles made with some master key). */
export async function storeHoldsProfiles(store: Store): Promise<boolean> {
  return (await profilesWithKeys(store)).length > 0;
}

/** Every profile with a data key record. */
export async function profilesWithKeys(store: Store): Promise<string[]> {
  const keys = await store.storage.getKeys("p");
  return [...new Set(keys.map((key) => /^p:([^:]+):key$/.exec(key)?.[1]).filter((p): p is string => p !== undefined))].sort();
}

/**
 * The custody key of a home without a master key: its machine key, when the store lists the
 * machine as approved. Undefined when the home has no machine key or the machine is not approved.
 */
export async function openMachineCustody(home: string, store: Store): Promise<CustodyKey | undefined> {
  const machine = await loadMachineKey(home, false);
  if (machine === undefined) return undefined;
  const record = await readMachine(store, machine.id);
  if (record?.approvedAt === undefined || record.publicKey !== machine.spki) return undefined;
  if (record.lastSeen === undefined || Date.now() - Date.parse(record.lastSeen) > SEEN_EVERY_MS) {
    // Best effort: `machine list` shows it; a failed write must not fail the command.
    await store.storage.setItem(recordKey(machine.id), { ...record, lastSeen: new Date().toISOString() }).catch(() => {});
  }
  return { key: bindMachineKey(machine), source: "machine" };
}

/** Modes of a home whose key is the master key itself, opened without asking anyone (no prompt). */
const HOLDER_MODES = new Set(["env", "file", "keyring"]);

/**
 * Puts this home in the store's machine list as a master-key holder, once its key is proven to
 * open a profile (a home with a key of its own that opens nothing is no holder). Quiet when it
 * cannot tell: no profiles yet, a passphrase it would have to ask for, no access.
 */
export async function registerKeyHolder(core: ServiceCore): Promise<void> {
  const store = await core.store();
  if (!HOLDER_MODES.has(describeCustody(core.context.home, core.context.masterKey).key_mode)) return;
  const [profile] = await profilesWithKeys(store);
  if (profile === undefined) return;
  const custody = await core.masterKey().catch(() => undefined);
  if (custody === undefined || custody.source === "machine") return;
  const opened = await new ProfileKeys(store.storage, store.lock, profile, custody.key, store.locate).rawDataKey().then(() => true, () => false);
  if (!opened) return;
  const machine = (await loadMachineKey(core.context.home, true)) as MachineKey;
  const existing = await readMachine(store, machine.id).catch(() => null);
  const recent = existing?.lastSeen !== undefined && Date.now() - Date.parse(existing.lastSeen) < SEEN_EVERY_MS;
  if (existing?.masterKey === true && existing.publicKey === machine.spki && existing.hostname === machine.host && recent) return;
  const now = new Date().toISOString();
  const record: MachineRecord = {
    v: 1, id: machine.id, hostname: machine.host, publicKey: machine.spki, fingerprint: machine.fingerprint,
    requestedAt: existing?.requestedAt ?? now, approvedAt: existing?.approvedAt ?? now, approvedBy: "master key", lastSeen: now, masterKey: true,
  };
  await store.storage.setItem(recordKey(machine.id), record);
}

/** What `machine join` found or did. */
export interface JoinResult {
  id: string;
  hostname: string;
  fingerprint: string;
  /** `requested`: the request is in the store; `approved`: the machine has access; `not_needed`: the store holds no profiles or the home has a master key. */
  status: "requested" | "approved" | "not_needed";
  /** What to run on a machine with access. */
  approve: string;
}

/** Puts this machine's join request (id, hostname, public key; no secret) in the store. */
export async function joinMachine(core: ServiceCore, hasMasterKey: boolean): Promise<JoinResult> {
  const store = await core.store();
  const machine = (await loadMachineKey(core.context.home, true)) as MachineKey;
  const base = { id: machine.id, hostname: machine.host, fingerprint: machine.fingerprint, approve: `authsome machine approve ${machine.id}.${machine.fingerprint}` };
  const existing = await readMachine(store, machine.id);
  if (existing?.approvedAt !== undefined && existing.publicKey === machine.spki && existing.masterKey !== true) return { ...base, status: "approved" };
  if (hasMasterKey) await registerKeyHolder(core);
  if (hasMasterKey || !(await storeHoldsProfiles(store))) return { ...base, status: "not_needed" };
  if (existing === null || existing.publicKey !== machine.spki) {
    const record: MachineRecord = { v: 1, id: machine.id, hostname: machine.host, publicKey: machine.spki, fingerprint: machine.fingerprint, requestedAt: new Date().toISOString() };
    await store.storage.setItem(recordKey(machine.id), record);
    await core.record({ action: "machine_join", host: machine.id, outcome: "ok" });
  }
  return { ...base, status: "requested" };
}

/** How often `join --wait` looks at the store: an approval is seen within this. */
const WAIT_POLL_MS = 1_000;

/**
 * Waits (at most `seconds`) until the store lists the machine as approved, calling `progress`
 * about every 10 s with the seconds left. Resolves true when approved, false at the deadline.
 */
export async function waitForApproval(core: ServiceCore, id: string, seconds: number, progress: (left: number) => void): Promise<boolean> {
  const store = await core.store();
  const deadline = Date.now() + seconds * 1000;
  let told = Date.now();
  for (;;) {
    if ((await readMachine(store, id))?.approvedAt !== undefined) return true;
    const left = deadline - Date.now();
    if (left <= 0) return false;
    if (Date.now() - told >= 10_000) {
      told = Date.now();
      progress(Math.ceil(left / 1000));
    }
    // Polling, not a subscription: a join waits once, for a person to run a command elsewhere.
    await new Promise((resolve) => setTimeout(resolve, Math.min(WAIT_POLL_MS, left)));
  }
}

/** Splits `<id>` or `<id>.<fingerprint>` (what `join` prints). */
function _parseRequest(request: string): { id: string; fingerprint?: string } {
  const match = /^([0-9a-f]{32})(?:\.([0-9a-f]{16}))?$/.exec(request.trim().toLowerCase());
  if (match === null) throw new AuthsomeError("usage", "a machine is named by its id (32 hex digits), or the `<id>.<fingerprint>` that `authsome machine join` printed");
  return match[2] === undefined ? { id: match[1] ?? "" } : { id: match[1] ?? "", fingerprint: match[2] };
}

/** What `machine approve` did. */
export interface ApproveResult {
  id: string;
  hostname: string;
  fingerprint: string;
  profiles: string[];
}

/**
 * Wraps every profile's data key for the requesting machine (this machine must have access: its
 * master key or its own approval). With a fingerprint in `request`, the stored public key must
 * match it: whoever can write to the store cannot swap the key between join and approve.
 */
export async function approveMachine(core: ServiceCore, request: string): Promise<ApproveResult> {
  const { id, fingerprint } = _parseRequest(request);
  const store = await core.store();
  const record = await readMachine(store, id);
  if (record === null) throw new AuthsomeError("usage", `no join request from machine ${id} in ${store.description}`, { hint: "run `authsome machine join` on that machine first" });
  const actual = await fingerprintOf(record.publicKey);
  if (fingerprint !== undefined && fingerprint !== actual) {
    throw new AuthsomeError("usage", `the public key stored for machine ${id} has fingerprint ${actual}, not ${fingerprint}: the request was changed in the store`, { hint: "do not approve it; run `authsome machine join` on that machine again and compare" });
  }
  const custody = await core.masterKey();
  const self = await loadMachineKey(core.context.home, true);
  const approvedBy = `${self?.id ?? "?"} (${self?.host ?? "?"})`;
  const profiles = await profilesWithKeys(store);
  for (const profile of profiles) {
    if ((await store.storage.getItem(`p:${profile}:key-next`)) !== null) {
      throw new AuthsomeError("usage", `profile "${profile}" is being re-encrypted (a key rotation is under way)`, { hint: "finish it with `authsome key rotate`, then approve again" });
    }
    const keys = new ProfileKeys(store.storage, store.lock, profile, custody.key, store.locate);
    const { raw, createdAt } = await keys.rawDataKey();
    await store.storage.setItem(wrapKey(id, profile), await wrapForMachine(raw, createdAt, profile, id, record.publicKey, approvedBy));
  }
  await store.storage.setItem(recordKey(id), { ...record, approvedAt: new Date().toISOString(), approvedBy });
  await core.record({ action: "machine_approve", host: id, outcome: "ok" });
  if (custody.source !== "machine") await registerKeyHolder(core);
  return { id, hostname: record.hostname, fingerprint: actual, profiles };
}

/** One row of `machine list`. */
export interface MachineView {
  id: string;
  hostname: string;
  fingerprint: string;
  /** `master_key`: holds the fleet's master key (the origin, or a home given the key): never approved, never wrapped for. */
  status: "pending" | "approved" | "master_key";
  requested_at: string;
  joined_at?: string;
  approved_by?: string;
  last_seen?: string;
  /** Profiles whose data key is wrapped for it. */
  profiles: string[];
  /** This machine. */
  current: boolean;
}

/** Every machine of the store, oldest request first (this home first put in when it holds the master key). */
export async function listMachines(core: ServiceCore): Promise<MachineView[]> {
  const store = await core.store();
  await registerKeyHolder(core);
  const self = await loadMachineKey(core.context.home, false);
  const keys = await store.storage.getKeys("machine");
  const views: MachineView[] = [];
  for (const key of keys) {
    const id = /^machine:([0-9a-f]{32})$/.exec(key)?.[1];
    if (id === undefined) continue;
    const record = await readMachine(store, id);
    if (record === null) continue;
    const profiles = keys.filter((k) => k.startsWith(`machine:${id}:key:`)).map((k) => k.slice(`machine:${id}:key:`.length)).sort();
    views.push({
      id, hostname: record.hostname, fingerprint: record.fingerprint, status: record.masterKey === true ? "master_key" : record.approvedAt === undefined ? "pending" : "approved", requested_at: record.requestedAt,
      ...(record.approvedAt === undefined ? {} : { joined_at: record.approvedAt }), ...(record.approvedBy === undefined ? {} : { approved_by: record.approvedBy }),
      ...(record.lastSeen === undefined ? {} : { last_seen: record.lastSeen }), profiles, current: self?.id === id,
    });
  }
  return views.sort((a, b) => a.requested_at.localeCompare(b.requested_at));
}

/**
 * Deletes a machine's wrappings and its record. What it already read it keeps: cutting it off
 * from future writes needs new data keys (`remove --rotate`, or `authsome key rotate --reencrypt`
 * then approving the other machines again).
 */
export async function removeMachine(core: ServiceCore, request: string): Promise<{ id: string; removed: number }> {
  const { id } = _parseRequest(request);
  const store = await core.store();
  // Its wrappings, and its proxy CA (src/proxy/ca-store.ts), sealed under its own key.
  const owned = (await store.storage.getKeys(`machine:${id}`)).filter((k) => k.startsWith(`machine:${id}:`));
  const wrappings = owned.filter((k) => k.startsWith(`machine:${id}:key:`));
  if ((await readMachine(store, id)) === null && owned.length === 0) {
    throw new AuthsomeError("usage", `no machine ${id} in ${store.description}`, { hint: "see `authsome machine list`" });
  }
  for (const key of owned) await store.storage.removeItem(key);
  await store.storage.removeItem(recordKey(id));
  await core.record({ action: "machine_remove", host: id, outcome: "ok" });
  return { id, removed: wrappings.length };
}

/** Re-wraps every profile for every approved machine but `except` (after new data keys). */
export async function rewrapApproved(core: ServiceCore, except?: string): Promise<string[]> {
  const done: string[] = [];
  for (const machine of await listMachines(core)) {
    if (machine.status !== "approved" || machine.id === except) continue;
    await approveMachine(core, `${machine.id}.${machine.fingerprint}`);
    done.push(machine.id);
  }
  return done;
}
