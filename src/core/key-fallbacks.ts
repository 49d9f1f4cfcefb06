/**
 * Master keys that may also open a profile's key record, attached to the primary key itself.
 * During a key rotation (src/core/rotate.ts) key records are re-wrapped one at a time, so for a
 * while some open with the old key and some with the new; every reader must try both. Keeping
 * the pair here, keyed by the primary `CryptoKey`, lets every `new Vault(...)` (service, proxy
 * sessions, profiles) see them without each call site passing a second argument.
 */
const fallbacks = new WeakMap<CryptoKey, readonly CryptoKey[]>();

/** Records the keys to try when `primary` does not open a key record. */
export function setFallbackKeys(primary: CryptoKey, keys: readonly CryptoKey[]): void {
  if (keys.length === 0) fallbacks.delete(primary);
  else fallbacks.set(primary, Object.freeze([...keys]));
}

/** The keys to try after `primary` (empty outside an interrupted or running rotation). */
export function fallbackKeys(primary: CryptoKey): readonly CryptoKey[] {
  return fallbacks.get(primary) ?? [];
}
