/**
 * "Did you mean" for commands and flags: the candidates closest to what was typed by edit
 * distance (Levenshtein), or that start with it, so `lgin` finds `login` and `--conn` finds
 * `--connection`. Nothing is suggested when every candidate is far off.
 */

/** Levenshtein distance between two strings (insertions, deletions, substitutions). */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** The candidates nearest to `typed` (at most three), best first; empty when none is close. */
export function suggest(typed: string, candidates: readonly string[]): string[] {
  if (typed.length < 2) return [];
  const limit = Math.max(1, Math.floor(typed.length / 3));
  const scored = candidates
    .map((candidate) => ({ candidate, distance: typed.length >= 2 && candidate.startsWith(typed) ? 0 : editDistance(typed, candidate) }))
    .filter(({ distance }) => distance <= limit)
    .sort((x, y) => x.distance - y.distance);
  const best = scored[0]?.distance;
  return scored.filter(({ distance }) => distance === best).slice(0, 3).map(({ candidate }) => candidate);
}

/** `did you mean: a, b?`, or undefined when there is nothing to suggest. */
export function didYouMean(typed: string, candidates: readonly string[], prefix = ""): string | undefined {
  const near = suggest(typed, candidates);
  return near.length === 0 ? undefined : `did you mean: ${near.map((c) => `${prefix}${c}`).join(", ")}?`;
}
