/**
 * Where the proxy's CA is kept (a {@link CaStore} over the service's store), and which hosts it
 * may sign for: the hosts the registry's providers broker (ca-hosts.ts).
 *
 * A home's own store (fs): `home:ca`, its private key sealed with the master key, as before. A
 * shared store (Redis), or a machine reading through its machine key: one CA per machine,
 * `machine:<id>:ca`, sealed with a key only that machine can compute (machine-keys.ts,
 * `machineSealingKey`): another machine, even one holding the fleet's master key, cannot open it
 * and so cannot mint certificates that this machine's agents trust.
 */
import * as v from "valibot";
import { decodeBase64, encodeBase64 } from "@oslojs/encoding";
import { sealJson, unsealJson } from "../core/crypto.ts";
import type { ServiceCore } from "../core/service.ts";
import type { CaStore, StoredCa } from "./ca.ts";
import { permittedNames } from "./ca-hosts.ts";

const StoredCaSchema = v.object({ certPem: v.string(), keyPkcs8: v.string(), names: v.optional(v.string()) });
const SealedSchema = v.object({ alg: v.literal("A256GCM"), nonce: v.string(), ct: v.string() });

interface Slot {
  key: string;
  aad: string;
  lock: string;
  sealing: CryptoKey;
}

/** The record, associated data, lock and sealing key of this home's (or machine's) CA. */
async function _slot(core: ServiceCore): Promise<Slot> {
  const [store, custody] = await Promise.all([core.store(), core.masterKey()]);
  if (store.kind !== "redis" && custody.source !== "machine") return { key: "home:ca", aad: "authsome/v1/home-ca", lock: "home-ca", sealing: custody.key };
  const { loadMachineKey, machineSealingKey } = await import("../core/machine-keys.ts");
  const machine = await loadMachineKey(core.context.home, true);
  if (machine === undefined) throw new Error("unreachable: a machine key is made on demand");
  return { key: `machine:${machine.id}:ca`, aad: `authsome/v1/machine-ca/${machine.id}`, lock: `machine-ca.${machine.id}`, sealing: await machineSealingKey(machine, "ca") };
}

/** The proxy CA of this home or machine (see above), name-constrained to the providers' hosts. */
export function createVaultCaStore(core: ServiceCore): CaStore {
  let slot: Promise<Slot> | undefined;
  const open = () => (slot ??= _slot(core));
  return {
    async load() {
      const [store, { key, aad, sealing }] = await Promise.all([core.store(), open()]);
      const sealed = await store.storage.getItem(key);
      if (sealed === null) return null;
      const plain = v.parse(StoredCaSchema, await unsealJson(sealing, v.parse(SealedSchema, sealed), aad, "the proxy CA"));
      return { certPem: plain.certPem, keyPkcs8: decodeBase64(plain.keyPkcs8), ...(plain.names === undefined ? {} : { names: plain.names }) };
    },
    async save(ca: StoredCa) {
      const [store, { key, aad, sealing }] = await Promise.all([core.store(), open()]);
      await store.storage.setItem(key, await sealJson(sealing, { certPem: ca.certPem, keyPkcs8: encodeBase64(ca.keyPkcs8), ...(ca.names === undefined ? {} : { names: ca.names }) }, aad));
    },
    async exclusive(fn) {
      const [store, { lock }] = await Promise.all([core.store(), open()]);
      return store.lock.withLock(lock, fn);
    },
    async permitted() {
      return permittedNames((await core.registry.list()).plugins);
    },
  };
}
