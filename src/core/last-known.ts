/**
 * What a proxy may inject while its store is unreachable (a Redis outage): the last connection
 * it read for each provider and connection name, for at most `AUTHSOME_STALE_SECONDS` (default
 * 300) after the store last vouched for it, and never once the credential itself has expired.
 * Past that bound the proxy stops injecting (the store's own error reaches the agent), so a
 * logout or revocation made elsewhere during the outage is honoured within a known time.
 */
import { AuthsomeError, toAuthsomeError } from "./errors.ts";
import { getEnv } from "../runtime/index.ts";

/** After one failed read, the store is not asked again for this long: each ask costs its deadline. */
const OUTAGE_SKIP_MS = 5_000;
const DEFAULT_STALE_SECONDS = 300;

/** `AUTHSOME_STALE_SECONDS` (0-86400) or the default; anything else is refused. */
export function staleSeconds(): number {
  const raw = getEnv("AUTHSOME_STALE_SECONDS");
  if (raw === undefined) return DEFAULT_STALE_SECONDS;
  const seconds = Number(raw);
  if (!/^\d+$/.test(raw) || seconds > 86_400) throw new AuthsomeError("usage", `AUTHSOME_STALE_SECONDS must be a whole number of seconds from 0 to 86400, got ${JSON.stringify(raw.slice(0, 20))}`);
  return seconds;
}

/** The last-known values of one injector. */
export interface LastKnown<T> {
  /** `value` was read from the store just now. */
  remember(key: string, value: T): void;
  /** The store's change feed vouches that the cached value of `key` is still current. */
  confirm(key: string): void;
  /** During an outage: the value to serve without asking the store; undefined: ask it. */
  duringOutage(key: string): { value: T } | undefined;
  /** The store failed to answer: the value to serve instead; undefined: the error stands. */
  afterFailure(key: string, error: unknown): { value: T } | undefined;
}

/** `usable` says whether a value may still be injected at all (e.g. its token has not expired). */
export function createLastKnown<T>(usable: (value: T) => boolean, staleMs = staleSeconds() * 1000, now: () => number = Date.now): LastKnown<T> {
  const known = new Map<string, { value: T; at: number }>();
  let outageUntil = 0;
  const fresh = (key: string): { value: T } | undefined => {
    const entry = known.get(key);
    if (entry === undefined || now() - entry.at > staleMs || !usable(entry.value)) return undefined;
    return { value: entry.value };
  };
  return {
    remember(key, value) {
      outageUntil = 0;
      known.set(key, { value, at: now() });
    },
    confirm(key) {
      const entry = known.get(key);
      if (entry !== undefined) entry.at = now();
    },
    duringOutage(key) {
      return now() < outageUntil ? fresh(key) : undefined;
    },
    afterFailure(key, error) {
      if (toAuthsomeError(error).code !== "store_unavailable") return undefined;
      outageUntil = now() + OUTAGE_SKIP_MS;
      return fresh(key);
    },
  };
}
