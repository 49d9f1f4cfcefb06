/**
 * The run's placeholder in an agent's URL, replaced for an injected request: the step of the
 * egress pipeline (egress.ts) that a path rule (rules.ts, `in: "path"`) needs, kept apart so the
 * pipeline reads as a list of steps.
 */
import type { InjectionDecision } from "./injector.ts";
import type { Tripwire } from "./tripwire.ts";

/**
 * The run's placeholder in the agent's URL, for an injected request: a path rule's segment
 * `<prefix><placeholder>` becomes `<prefix><token>` (rules.ts); a query parameter holding just
 * the placeholder is dropped (the rule put the credential elsewhere: Trello SDKs send `key=` and
 * `token=` beside the header). Only the placeholder is replaced, never a segment that merely
 * starts with the prefix: a path the agent wrote with a token of its own, or a file name, is
 * never given this credential. No placeholder segment for a path rule: nothing is injected.
 * Without a tripwire (a transport with no run placeholders: the in-process interceptor) a
 * path rule injects nothing.
 */
export async function replacePlaceholders(injection: InjectionDecision, url: URL, tripwire: Tripwire | undefined): Promise<InjectionDecision | null> {
  // No path rule and no query: nothing a placeholder could be in (most requests; no lookup).
  if (injection.path === undefined && url.search === "") return injection;
  const placeholder = await tripwire?.placeholder(injection.provider);
  if (placeholder === undefined) return injection.path === undefined ? injection : null;
  const rewrite = injection.path;
  if (rewrite !== undefined) {
    const wanted = rewrite.prefix + placeholder;
    const segments = url.pathname.split("/");
    if (!segments.some((segment) => _decoded(segment) === wanted)) return null;
    url.pathname = segments.map((segment) => (_decoded(segment) === wanted ? rewrite.prefix + rewrite.value : segment)).join("/");
  }
  if (url.search !== "") for (const [name, value] of [...url.searchParams]) if (value === placeholder) url.searchParams.delete(name, value);
  return injection;
}

/** A path segment percent-decoded (an SDK may send `:` as `%3A`); as is when it does not decode. */
function _decoded(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
