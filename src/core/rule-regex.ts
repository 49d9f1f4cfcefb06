/**
 * Linear-time regexes for plugin host rules (`regex:` rules), on RE2's engine (re2js, a pure-JS
 * port of RE2). JavaScript's RegExp backtracks: a plugin's `(a+)+$` against a 40-character host
 * held a process at full CPU for minutes, and a busy thread cannot be interrupted (issue 10).
 * RE2 simulates the automaton instead: matching costs O(pattern x input), whatever the pattern,
 * and it has no backreferences or lookaround, which are the constructs that need backtracking.
 *
 * re2js is ~150 KB of code and 8-20 ms to import here, so it is loaded on demand: only for
 * plugins that have a `regex:` rule. Every path that validates a plugin awaits
 * {@link prepareRegexEngine} first (src/core/registry.ts), then compiles synchronously.
 */
import { AuthsomeError } from "./errors.ts";

type Engine = typeof import("re2js");

/** A compiled host pattern: full-match, case-insensitive. */
export interface HostRegex {
  /** The pattern as the rule wrote it (after `regex:`). */
  readonly source: string;
  /** True when the whole (normalised) host matches. Linear in the host's length. */
  test(host: string): boolean;
}

/** Longer patterns are refused: no honest host pattern needs more. */
export const MAX_PATTERN_LENGTH = 1024;
/** A compiled program larger than this is refused (matching cost is program size x input). */
export const MAX_PROGRAM_SIZE = 10_000;
// DNS names are at most 253 characters: a longer "host" can be no rule's host, so it is not even
// looked at, which also bounds the cost of one match by MAX_PROGRAM_SIZE x 253 steps.
const MAX_HOST_LENGTH = 253;

let engine: Engine | undefined;
let loading: Promise<Engine> | undefined;

/** Loads re2js once per process (a no-op once loaded). */
export async function loadRegexEngine(): Promise<void> {
  loading ??= import("re2js");
  engine = await loading;
}

/** True when `input` (plugin JSON text, or a plugin object) has a `regex:` rule anywhere. */
export function needsRegexEngine(input: unknown, depth = 0): boolean {
  if (typeof input === "string") return /regex:/i.test(input);
  if (depth > 8 || typeof input !== "object" || input === null) return false;
  return Object.values(input).some((value) => needsRegexEngine(value, depth + 1));
}

/** Loads the engine when `input` needs it; call before validating a plugin. */
export async function prepareRegexEngine(input: unknown): Promise<void> {
  if (engine === undefined && needsRegexEngine(input)) await loadRegexEngine();
}

/**
 * Compiles a host pattern with RE2 semantics. Throws a plain Error saying what is wrong (the
 * plugin schema turns it into a field error): syntax RE2 lacks (backreferences, lookaround),
 * bad syntax, or a pattern too large.
 */
export function compileHostRegex(pattern: string): HostRegex {
  if (engine === undefined) {
    throw new AuthsomeError("internal", "regex rules need the RE2 engine: await prepareRegexEngine(plugin) before validating");
  }
  if (pattern === "") throw new Error("empty regex");
  if (pattern.length > MAX_PATTERN_LENGTH) throw new Error(`regex longer than ${MAX_PATTERN_LENGTH} characters`);
  const { RE2JS } = engine;
  let compiled: InstanceType<Engine["RE2JS"]>;
  try {
    compiled = RE2JS.compile(pattern, RE2JS.CASE_INSENSITIVE);
  } catch (error) {
    throw new Error(`invalid regex (${_syntaxProblem(error)})`);
  }
  if (compiled.programSize() > MAX_PROGRAM_SIZE) throw new Error("regex too large (simplify the repetitions)");
  return {
    source: pattern,
    test: (host) => host.length <= MAX_HOST_LENGTH && compiled.matches(host),
  };
}

/**
 * Compiles a plugin's API-key pattern on RE2 with `RegExp.prototype.test`'s meaning (a match
 * anywhere: authors anchor with `^...$`), case-sensitive. Throws a plain Error like
 * {@link compileHostRegex}. The key is the user's own, but the pattern is the plugin's.
 */
export function compileKeyPattern(pattern: string): { test(key: string): boolean } {
  if (engine === undefined) throw new AuthsomeError("internal", "key patterns need the RE2 engine: await loadRegexEngine() first");
  if (pattern.length > MAX_PATTERN_LENGTH) throw new Error(`regex longer than ${MAX_PATTERN_LENGTH} characters`);
  let compiled: InstanceType<Engine["RE2JS"]>;
  try {
    compiled = engine.RE2JS.compile(pattern);
  } catch (error) {
    throw new Error(`invalid regex (${_syntaxProblem(error)})`);
  }
  if (compiled.programSize() > MAX_PROGRAM_SIZE) throw new Error("regex too large (simplify the repetitions)");
  return { test: (key) => compiled.test(key) };
}

/**
 * Why a plugin's API-key pattern is unusable, or null. With the engine loaded (always at
 * `providers add`, see registry.ts) that is RE2's verdict; on a later load without it, only
 * the syntax is checked (compiled, never run), and login gives RE2's verdict.
 */
export function keyPatternProblem(pattern: string): string | null {
  if (engine === undefined) {
    try {
      new RegExp(pattern);
      return null;
    } catch {
      return "invalid regex";
    }
  }
  try {
    compileKeyPattern(pattern);
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : "invalid regex";
  }
}

/** RE2's own words, without its prefix, plus why when the construct is one it lacks on purpose. */
function _syntaxProblem(error: unknown): string {
  const text = (error instanceof Error ? error.message : String(error)).replace(/^error parsing regexp: /, "")
    .replaceAll("`(?i)", "`"); // the case-insensitive flag RE2JS adds, not the author's
  if (/invalid escape sequence: `\\[1-9]/.test(text)) return `${text}: backreferences are not supported (RE2 syntax, linear-time)`;
  if (/`\(\?<?[=!]/.test(text) || /named capture: `\(\?<[=!]/.test(text)) {
    return `${text}: lookahead and lookbehind are not supported (RE2 syntax, linear-time)`;
  }
  return text;
}
