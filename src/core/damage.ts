/**
 * Damaged records: finding them (`doctor`) and moving them aside (`doctor --repair`). A record
 * is damaged when it fails its schema or its integrity check; each one affects only itself
 * (issue 11), so repair never needs to touch a healthy record. Repair copies each damaged
 * record to `<home>/damaged/<time>/...` (0600, fsynced) before removing it from the store:
 * nothing is ever deleted without a copy.
 */
import { join } from "node:path";
import { AuthsomeError } from "./errors.ts";
import { writeFileAtomic } from "./files.ts";
import type { ServiceCore } from "./service.ts";
import { isDamage, type Vault } from "./vault.ts";

/** A record that failed its checks. */
export interface DamageReport {
  /** The storage key (`p:default:prov:openai`). */
  key: string;
  /** Where it lives: its file in an fs store. */
  location: string;
  /** What is wrong, in one line. */
  problem: string;
  /** False for the profile key: moving it aside would not make anything readable again. */
  movable: boolean;
}

/** What `doctor --repair` did with one record. */
export interface RepairedRecord extends DamageReport {
  /** The file holding the record's old content. */
  movedTo: string;
}

/** Opens one record the way a command would; the damage it shows, if any. */
async function _problemOf(vault: Vault, parts: string[], keyOk: boolean): Promise<AuthsomeError | undefined> {
  const [kind, provider = "", connection = ""] = parts;
  try {
    if (kind === "conn" && parts.length === 3) {
      // Without the data key only the schema can be checked (a wrong master key is not damage).
      if (keyOk) await vault.read(provider, connection);
      else await vault.getMeta(provider, connection);
    } else if (kind === "prov" && parts.length === 2) {
      return (await vault.readProvider(provider)).damage;
    } else if (kind === "client" && parts.length === 2 && keyOk) {
      await vault.getClient(provider);
    }
    return undefined;
  } catch (error) {
    if (isDamage(error)) return error;
    throw error;
  }
}

/** Whether the profile's key opens, and its damage when it is the key record that is broken. */
async function _checkKey(vault: Vault): Promise<{ ok: boolean; damage?: AuthsomeError }> {
  try {
    await vault.dataKey();
    return { ok: true };
  } catch (error) {
    // AES-GCM cannot tell a wrong master key from an edited key record: reported, never moved.
    if (isDamage(error) || (error instanceof AuthsomeError && error.code === "master_key_invalid")) return { ok: false, damage: error };
    throw error;
  }
}

/** Every damaged record of the current profile. @internal */
export async function findDamaged(core: ServiceCore): Promise<DamageReport[]> {
  const [store, vault] = await Promise.all([core.store(), core.vault()]);
  const prefix = `p:${vault.profile}`;
  const key = await _checkKey(vault);
  const found: DamageReport[] = [];
  if (key.damage !== undefined) found.push({ key: `${prefix}:key`, location: vault.locate("key"), problem: key.damage.message, movable: false });
  for (const storageKey of await store.storage.getKeys(prefix)) {
    const problem = await _problemOf(vault, storageKey.slice(prefix.length + 1).split(":"), key.ok);
    if (problem !== undefined) found.push({ key: storageKey, location: store.locate(storageKey), problem: problem.message, movable: true });
  }
  return found;
}

/**
 * Moves every movable damaged record of the current profile aside, under the provider's lock so
 * a concurrent login is not undone; a record found healthy again under the lock stays. @internal
 */
export async function repairDamaged(core: ServiceCore): Promise<RepairedRecord[]> {
  const [store, vault] = await Promise.all([core.store(), core.vault()]);
  const prefix = `p:${vault.profile}`;
  const key = await _checkKey(vault);
  const folder = join(core.context.home, "damaged", new Date().toISOString().replaceAll(":", "-"));
  const moved: RepairedRecord[] = [];
  for (const report of await findDamaged(core)) {
    if (!report.movable) continue;
    const parts = report.key.slice(prefix.length + 1).split(":");
    await vault.withProviderLock(parts[1] ?? "", async () => {
      if ((await _problemOf(vault, parts, key.ok)) === undefined) return;
      const raw = await store.storage.getItemRaw(report.key);
      const target = `${join(folder, ...report.key.split(":"))}.rec`;
      await writeFileAtomic(target, typeof raw === "string" ? raw : JSON.stringify(raw));
      await store.storage.removeItem(report.key);
      moved.push({ ...report, movedTo: target });
    });
  }
  return moved;
}
