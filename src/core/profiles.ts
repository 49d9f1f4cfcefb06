/**
 * Named profiles inside one home. Each has its own vault (records under `p:<name>:`), its own
 * data key and its own audit log. `default` always exists; others are created explicitly, so a
 * mistyped `--profile` is an error instead of a silently empty vault.
 *
 * Profiles are records of the store (`profiles:<name>`): with a shared (Redis) store every
 * machine lists and uses the same profiles. Which profile a command uses stays per home and per
 * process (`--profile`, `AUTHSOME_PROFILE`, else `default`).
 */
import * as v from "valibot";
import { checkName } from "./context.ts";
import { AuthsomeError } from "./errors.ts";
import { type ProfileMeta, ProfileMetaSchema } from "./records.ts";
import type { ServiceCore } from "./service.ts";
import { Vault } from "./vault.ts";

/** A profile as listed. */
export interface ProfileView {
  name: string;
  description: string | null;
  created_at: string | null;
  current: boolean;
}

const key = (name: string) => `profiles:${name}`;

async function readMeta(core: ServiceCore, name: string): Promise<ProfileMeta | null> {
  const { storage } = await core.store();
  return _parseMeta(name, await storage.getItem(key(name)));
}

function _parseMeta(name: string, stored: unknown): ProfileMeta | null {
  if (stored === null || stored === undefined) return null;
  const parsed = v.safeParse(ProfileMetaSchema, stored);
  if (!parsed.success) throw new AuthsomeError("record_invalid", `the record of profile "${name}" is unreadable`);
  return parsed.output;
}

/** Throws profile_not_found unless the profile exists (`default` always does). @internal */
export async function assertProfileExists(core: ServiceCore, name: string): Promise<void> {
  if (name === "default" || (await readMeta(core, name)) !== null) return;
  const store = await core.store();
  throw new AuthsomeError("profile_not_found", `no profile "${name}" in ${store.kind === "redis" ? store.description : core.context.home}`, {
    hint: `create it: authsome profile create ${name}`,
  });
}

/** Creates a profile (and its data key). @internal */
export async function createProfile(core: ServiceCore, name: string, options: { description?: string } = {}): Promise<ProfileView> {
  checkName("profile", name);
  const store = await core.store();
  return store.lock.withLock("profiles", async () => {
    if (name === "default" || (await readMeta(core, name)) !== null) {
      throw new AuthsomeError("profile_exists", `profile "${name}" already exists`, { hint: "see: authsome profile list" });
    }
    const meta: ProfileMeta = { name, createdAt: new Date().toISOString(), ...(options.description === undefined ? {} : { description: options.description }) };
    await new Vault(store.storage, store.lock, name, (await core.masterKey()).key).dataKey();
    await store.storage.setItem(key(name), meta);
    return { name, description: meta.description ?? null, created_at: meta.createdAt, current: name === core.context.profile };
  });
}

/** Every profile of the store, `default` first: two store reads (the names, then all records at once). @internal */
export async function listProfiles(core: ServiceCore): Promise<ProfileView[]> {
  const { storage } = await core.store();
  const names = (await storage.getKeys("profiles")).map((k) => k.slice("profiles:".length)).filter((n) => n !== "default" && !n.includes(":")).sort();
  const views: ProfileView[] = [{ name: "default", description: null, created_at: null, current: core.context.profile === "default" }];
  const records = new Map((names.length === 0 ? [] : await storage.getItems(names.map(key))).map((r) => [r.key, r.value]));
  for (const name of names) {
    const meta = _parseMeta(name, records.get(key(name)) ?? null);
    if (meta !== null) views.push({ name, description: meta.description ?? null, created_at: meta.createdAt, current: name === core.context.profile });
  }
  return views;
}

/** Removes a profile and its vault; refuses `default`, and a profile with connections unless forced. @internal */
export async function removeProfile(core: ServiceCore, name: string, options: { force?: boolean } = {}): Promise<void> {
  checkName("profile", name);
  if (name === "default") throw new AuthsomeError("usage", "the default profile cannot be removed");
  const store = await core.store();
  await assertProfileExists(core, name);
  const vault = new Vault(store.storage, store.lock, name, (await core.masterKey()).key);
  const providers = await vault.providerNames();
  if (providers.length > 0 && options.force !== true) {
    throw new AuthsomeError("usage", `profile "${name}" still has connections (${providers.join(", ")})`, {
      hint: `add --force to remove it with its credentials`,
    });
  }
  await store.lock.withLock("profiles", async () => {
    await vault.destroy();
    await store.storage.removeItem(key(name));
  });
}
