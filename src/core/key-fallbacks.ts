/**
 * Master keys that may also open a profile's key record, attached to the primary key itself.
 * During a key rotation (src/core/rotate.ts) key records are re-wrapped one at a time, so for a
 * while some open with the old key and some with the new; every reader must try both. Keeping
 * the pair here, keyed by the primary `CryptoKey`, lets every `new Vault(...)` (service, proxy
 * sessions, profiles) see them without each call site passing a second argument.
 *
 * After a rotation in this process, the old key also names its successor: a service that loaded
 * the old key before (a library caller that rotated) still opens the re-wrapped records, and
 * wraps a new profile's key under the successor, which every other process will hold.
 */
const fallbacks = new WeakMap<CryptoKey, readonly CryptoKey[]>();
const successors = new WeakMap<CryptoKey, CryptoKey>();

/** Records the keys to try when `primary` does not open a key record. */
export function setFallbackKeys(primary: CryptoKey, keys: readonly CryptoKey[]): void {
  if (keys.length === 0) fallbacks.delete(primary);
  else fallbacks.set(primary, Object.freeze([...keys]));
}

/** Records that `next` replaced `old` as the home's master key (a finished rotation). */
export function setSuccessor(old: CryptoKey, next: CryptoKey): void {
  if (old !== next) successors.set(old, next);
}

/** The newest key that replaced `key` in this process (itself when none did). */
export function currentKey(key: CryptoKey): CryptoKey {
  let current = key;
  // Bounded: a process rotates a handful of times at most.
  for (let i = 0; i < 64; i++) {
    const next = successors.get(current);
    if (next === undefined) break;
    current = next;
  }
  return current;
}

/** The keys to try after `primary`: a rotation's other key, then any successor of `primary`. */
export function fallbackKeys(primary: CryptoKey): readonly CryptoKey[] {
  const current = currentKey(primary);
  const listed = fallbacks.get(primary) ?? [];
  return current === primary || listed.includes(current) ? listed : [...listed, current];
}
