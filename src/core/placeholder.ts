/**
 * Per-run placeholders (issue 10): what a child of `authsome run` finds in `OPENAI_API_KEY`
 * and friends instead of a secret. Each run gets fresh ones, so a placeholder seen on the wire
 * names its run and its provider (the tripwire in tripwire.ts), and each is shaped like the
 * provider's keys, so an SDK that checks the key's form before sending still starts.
 *
 * The shape comes from the plugin's `apiKey.pattern` when it is a plain sequence of literals,
 * character classes with counts and `(a|b)` choices (every bundled pattern is); anything else
 * gets a fixed readable form. The result is checked against the pattern before it is used.
 */
import type { ProviderPlugin } from "./plugin.ts";

/** The readable form for providers without a usable key pattern: `authsome-managed-<random>`. */
export const PLACEHOLDER_PREFIX = "authsome-managed-";
/** Random characters in a generated run of unbounded length. */
const RANDOM_LENGTH = 24;
/** Put first into a long enough class that allows it, so a placeholder reads as ours. */
const MARK = "authsome";

type Item = { chars: string; min: number; max: number } | { choice: string[] };

/** A source of random bytes: `n` fresh bytes per call. */
export type RandomBytes = (n: number) => Uint8Array;

const webRandom: RandomBytes = (n) => crypto.getRandomValues(new Uint8Array(n));

/**
 * A placeholder for one provider (for every env variable it maps). `random` defaults to the
 * platform's CSPRNG; a run passes a stream keyed by its proxy token, so the proxy and the
 * child's environment (built in different processes when the daemon hosts the run) agree.
 */
export function createPlaceholder(plugin: ProviderPlugin, random: RandomBytes = webRandom): string {
  const pattern = plugin.apiKey?.pattern;
  const generated = pattern === undefined ? null : _fromPattern(pattern, random);
  return generated ?? `${PLACEHOLDER_PREFIX}${_random(ALNUM, RANDOM_LENGTH, random)}`;
}

/** True when a plugin maps env variables, so a run's child gets a placeholder for it. */
export function hasPlaceholder(plugin: ProviderPlugin): boolean {
  return Object.keys(plugin.env ?? {}).length > 0;
}

const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** A string the pattern accepts, or null when it is outside the simple subset (or the check fails). */
function _fromPattern(pattern: string, random: RandomBytes): string | null {
  const items = _parse(pattern);
  if (items === null) return null;
  let marked = false;
  let out = "";
  for (const item of items) {
    if ("choice" in item) {
      out += item.choice[0] ?? "";
      continue;
    }
    const canMark: boolean = !marked && item.max >= MARK.length + 1 + RANDOM_LENGTH && [...`${MARK}-`].every((c) => item.chars.includes(c));
    const wanted = canMark ? MARK.length + 1 + RANDOM_LENGTH : RANDOM_LENGTH;
    const length = Math.max(item.min, Math.min(item.max, wanted));
    marked ||= canMark;
    out += canMark ? `${MARK}-${_random(item.chars, length - MARK.length - 1, random)}` : _random(item.chars, length, random);
  }
  try {
    return new RegExp(pattern).test(out) ? out : null;
  } catch {
    return null;
  }
}

/**
 * `^` items `$`, each item a literal (`\.` escapes too), a class `[...]` (ranges, `\d`) or a
 * group of literal alternatives `(sk|rk)` / `(?:...)`, optionally followed by `{n}`, `{n,}`,
 * `{n,m}`, `+`, `*` or `?`. A v1 plugin's whole-pattern `^(?:...)$` wrapper is unwrapped.
 */
function _parse(source: string): Item[] | null {
  let p = source;
  const wrapped = /^\^\(\?:(.*)\)\$$/.exec(p);
  if (wrapped !== null && !/[()|]/.test(wrapped[1] ?? "")) p = `^${wrapped[1]}$`;
  if (!p.startsWith("^") || !p.endsWith("$") || p.endsWith("\\$")) return null;
  const items: Item[] = [];
  let i = 1;
  const end = p.length - 1;
  while (i < end) {
    const read = _atom(p, i);
    if (read === null) return null;
    i = read.next;
    const count = /^(?:\{(\d{1,3})(,(\d{1,3})?)?\}|([+*?]))/.exec(p.slice(i, end));
    let [min, max] = [1, 1];
    if (count !== null) {
      i += count[0].length;
      if (count[4] !== undefined) [min, max] = count[4] === "+" ? [1, Infinity] : count[4] === "*" ? [0, Infinity] : [0, 1];
      else [min, max] = [Number(count[1]), count[2] === undefined ? Number(count[1]) : count[3] === undefined ? Infinity : Number(count[3])];
    }
    if ("choice" in read.item) {
      if (min !== 1 || max !== 1) return null;
      items.push(read.item);
    } else items.push({ chars: read.item.chars, min, max: max < min ? min : max });
  }
  return items;
}

function _atom(p: string, i: number): { item: Item; next: number } | null {
  const c = p[i] ?? "";
  if (c === "[") {
    const close = p.indexOf("]", i + 1);
    const chars = close < 0 ? null : _class(p.slice(i + 1, close));
    return chars === null ? null : { item: { chars, min: 1, max: 1 }, next: close + 1 };
  }
  if (c === "(") {
    const close = p.indexOf(")", i + 1);
    const inner = close < 0 ? "" : p.slice(i + 1, close).replace(/^\?:/, "");
    if (close < 0 || !/^[A-Za-z0-9_-]+(\|[A-Za-z0-9_-]+)*$/.test(inner)) return null;
    return { item: { choice: inner.split("|") }, next: close + 1 };
  }
  if (c === "\\") {
    const next = p[i + 1] ?? "";
    if (next === "d") return { item: { chars: "0123456789", min: 1, max: 1 }, next: i + 2 };
    return /^[.\-_/+=:]$/.test(next) ? { item: { chars: next, min: 1, max: 1 }, next: i + 2 } : null;
  }
  return /^[A-Za-z0-9_\-:]$/.test(c) ? { item: { chars: c, min: 1, max: 1 }, next: i + 1 } : null;
}

/** The characters of a class body (`A-Za-z0-9_-`, `\d`); null for negation or anything unusual. */
function _class(body: string): string | null {
  if (body === "" || body.startsWith("^")) return null;
  let chars = "";
  for (let i = 0; i < body.length; i += 1) {
    const c = body[i] ?? "";
    if (c === "\\") {
      const next = body[i + 1] ?? "";
      if (next === "d") chars += "0123456789";
      else if (/^[-_.]$/.test(next)) chars += next;
      else return null;
      i += 1;
    } else if (body[i + 1] === "-" && i + 2 < body.length) {
      const to = body.charCodeAt(i + 2);
      if (!/^[A-Za-z0-9]$/.test(c) || to < c.charCodeAt(0) || to - c.charCodeAt(0) > 26) return null;
      for (let code = c.charCodeAt(0); code <= to; code += 1) chars += String.fromCharCode(code);
      i += 2;
    } else if (/^[A-Za-z0-9_\-.]$/.test(c)) chars += c;
    else return null;
  }
  return chars;
}

/** `length` characters drawn uniformly from `chars` (rejection sampling: no modulo bias). */
function _random(chars: string, length: number, random: RandomBytes): string {
  let out = "";
  const limit = 256 - (256 % chars.length);
  while (out.length < length) {
    for (const byte of random(length * 2)) {
      if (byte < limit && out.length < length) out += chars[byte % chars.length];
    }
  }
  return out;
}
