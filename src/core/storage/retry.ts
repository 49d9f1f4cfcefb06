/**
 * Riding out a short store outage where giving up loses something that exists nowhere else:
 * a refresh has already spent the old refresh token at the provider, and the rotated one is
 * only in this process's memory. Failing that write would leave the store with a refresh token
 * the provider considers used, and the next refresh would look like token theft (RFC 9700
 * 4.14: the whole grant revoked). So it is retried while the store is unavailable, for a bounded
 * time (src/core/refresh.ts also retries its lock waits and lost locks, as it commits by compare).
 */
import { AuthsomeError } from "../errors.ts";

/** How long a rotated token is held waiting for the store (default): longer than a restart, bounded. */
export const OUTAGE_BUDGET_MS = 20_000;

/** Runs `fn`, again while it fails with `store_unavailable` (or another of `codes`), until `budgetMs` has passed. */
export async function retryWhileUnavailable<T>(fn: () => Promise<T>, budgetMs = OUTAGE_BUDGET_MS, codes: readonly string[] = ["store_unavailable"]): Promise<T> {
  const deadline = Date.now() + budgetMs;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (!(error instanceof AuthsomeError) || !codes.includes(error.code) || Date.now() >= deadline) throw error;
    }
    const delay = Math.min(1_000, 100 * 2 ** attempt, Math.max(0, deadline - Date.now()));
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}
