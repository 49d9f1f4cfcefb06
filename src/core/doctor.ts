/**
 * `whoami` and `doctor`: where this service lives, and health checks that each say how to fix
 * what they find.
 */
import { stat } from "node:fs/promises";
import { describeCustody, keyPaths } from "./key-custody.ts";
import { masterKeyPath } from "./keys.ts";
import { machineKeyLocation } from "./machine-keys.ts";
import type { ServiceCore } from "./service.ts";
import { AuthsomeError, toAuthsomeError } from "./errors.ts";
import { runtime } from "../runtime/index.ts";
import { findDamaged } from "./damage.ts";

/** What `whoami` reports. */
export interface WhoAmI {
  home: string;
  profile: string;
  storage: string;
  storage_kind: string;
  key_source: string;
  /** How the key is kept: env, file, `passphrase (locked)` (whoami never unlocks it), keyring, or not created yet. */
  key_mode: string;
  /** Present while a key rotation is running or was interrupted. */
  key_rotation?: string;
  runtime: string;
  runtime_version: string;
}

/** One health check. */
export interface DoctorCheck {
  name: string;
  ok: boolean;
  detail: string;
  fix?: string;
}

/** Describes the current home, profile, storage and key. @internal */
export async function whoami(core: ServiceCore): Promise<WhoAmI> {
  // Never unlocks the key: whoami answers without a passphrase prompt.
  // Nor does it call the keyring: the pointer file names the entry.
  const store = await core.store();
  const custody = describeCustody(core.context.home, core.context.masterKey, core.context.passphrase);
  return {
    home: core.context.home,
    profile: core.context.profile,
    storage: store.description,
    storage_kind: store.kind,
    ...custody,
    runtime,
    runtime_version: runtime === "deno" ? `deno ${(globalThis as { Deno?: { version: { deno: string } } }).Deno?.version.deno}` : process.version,
  };
}

async function modeCheck(name: string, path: string, wanted: number, fix: string): Promise<DoctorCheck> {
  try {
    const mode = (await stat(path)).mode & 0o777;
    const loose = (mode & ~wanted) !== 0;
    return { name, ok: !loose, detail: `${path} has mode ${mode.toString(8)}`, ...(loose ? { fix } : {}) };
  } catch {
    return { name, ok: true, detail: `${path} does not exist yet (created on first use)` };
  }
}

async function attempt(name: string, fn: () => Promise<string>, fix: string): Promise<DoctorCheck> {
  try {
    return { name, ok: true, detail: await fn() };
  } catch (error) {
    // Our own checks throw plain Errors with safe messages; anything else is summarised.
    const failure = error instanceof AuthsomeError || !(error instanceof Error) ? toAuthsomeError(error) : undefined;
    return { name, ok: false, detail: failure?.message ?? (error as Error).message, fix: failure?.hint ?? fix };
  }
}

/** Lists damaged records, one line each; --repair moves the movable ones aside. */
async function recordsCheck(core: ServiceCore): Promise<DoctorCheck> {
  let damaged;
  try {
    damaged = await findDamaged(core);
  } catch (error) {
    return { name: "records", ok: false, detail: toAuthsomeError(error).message, fix: "check the storage and vault key checks above" };
  }
  if (damaged.length === 0) return { name: "records", ok: true, detail: `every record of profile "${core.context.profile}" reads and passes its integrity check` };
  const stuck = damaged.filter((d) => !d.movable);
  const fix = [
    ...(damaged.length > stuck.length ? [`\`authsome doctor --repair\` moves ${damaged.length - stuck.length} damaged record(s) aside to ${core.context.home}/damaged/ (never deleted); log in again afterwards`] : []),
    ...(stuck.length > 0 ? ["restore the profile key record from a backup (moving it aside would not make any record readable)"] : []),
  ].join("; ");
  return { name: "records", ok: false, detail: `${damaged.length} damaged: ${damaged.map((d) => d.problem).join("; ")}`, fix };
}

/** Runs every health check. @internal */
export async function doctor(core: ServiceCore): Promise<DoctorCheck[]> {
  const { home } = core.context;
  const checks: DoctorCheck[] = [];
  const major = Number(process.versions.node?.split(".")[0] ?? 0);
  checks.push({ name: "runtime", ok: runtime === "deno" || major >= 20, detail: `${runtime} ${runtime === "deno" ? "" : process.version}`.trim(), ...(major >= 20 || runtime === "deno" ? {} : { fix: "install Node.js 20 or newer" }) });
  checks.push(await modeCheck("home permissions", home, 0o700, `chmod 700 ${home}`));
  const custody = describeCustody(home, core.context.masterKey, core.context.passphrase);
  // A keyring home has no key file: its pointer (no secret, but it names the entry) is checked instead.
  // A joined machine of a shared store has its own key instead (src/core/machines.ts).
  const keyFile = custody.key_mode === "keyring" ? keyPaths(home).keyring : custody.key_mode === "machine" ? machineKeyLocation(home) : masterKeyPath(home);
  checks.push(await modeCheck("master key permissions", keyFile, 0o600, `chmod 600 ${keyFile}`));
  checks.push(await attempt("storage", async () => {
    const store = await core.store();
    const probe = `doctor:probe:${process.pid}`;
    await store.storage.setItem(probe, "ok");
    const back = await store.storage.getItem(probe);
    await store.storage.removeItem(probe);
    if (back !== "ok") throw new Error("read back a different value");
    return `${store.description}: read and write work`;
  }, "check AUTHSOME_STORAGE and that the store is reachable"));
  checks.push({ name: "master key", ok: custody.key_rotation === undefined, detail: `${custody.key_mode}: ${custody.key_source}`, ...(custody.key_rotation === undefined ? {} : { fix: custody.key_rotation }) });
  checks.push(await attempt("vault key", async () => {
    await (await core.vault()).dataKey();
    return `the master key opens profile "${core.context.profile}"`;
  }, "restore the master key this home was created with"));
  checks.push(await recordsCheck(core));
  const { errors, plugins, shadowed } = await core.registry.list();
  checks.push({ name: "plugins", ok: errors.length === 0, detail: `${plugins.length} providers loaded${errors.length ? `; ${errors.length} refused` : ""}`, ...(errors.length ? { fix: "fix or remove: " + errors.map((e) => `${e.source} (${e.message})`).join("; ") } : {}) });
  // A home plugin file that the shared store's plugin of its name overrides (docs/fleet.md).
  if (shadowed.length > 0) checks.push({ name: "shared plugins", ok: false, detail: `${shadowed.length} home plugin file(s) shadowed by the store`, fix: shadowed.map((s) => `${s.source} ${s.message}`).join("; ") });
  checks.push(await attempt("audit log", async () => {
    const result = await (await core.auditLog()).verify();
    if (!result.ok) throw new Error(`line ${result.problem?.line}: ${result.problem?.reason}`);
    return `${result.lines} entries, chain intact`;
  }, "run `authsome audit --verify` to see the first broken line"));
  return checks;
}
