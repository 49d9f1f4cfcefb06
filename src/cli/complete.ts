/**
 * Shell completion candidates, computed from the command definitions (the same ones that parse
 * argv and print help) and from the home: provider, connection and profile names. The shell
 * scripts of `authsome completion` call `authsome __complete -- <words>` and show what this
 * returns; names only, never a record's content.
 */
import { allOptions, type AnyCommand, argKind, type OptionSpec, placeholderChoices, type ValueKind } from "./command.ts";
import { COMMANDS, visibleCommandNames } from "./registry.ts";

/** Where names come from (the home, in the real CLI; fixed lists in tests). */
export interface NameSource {
  /** Provider names; `connections` of each when asked. */
  names(kind: ValueKind, provider?: string): Promise<string[]>;
}

async function load(name: string): Promise<AnyCommand | undefined> {
  const entry = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  return entry === undefined || entry.hidden === true ? undefined : (await entry.load()).default;
}

function findOption(command: AnyCommand | undefined, word: string): OptionSpec | undefined {
  const specs = command === undefined ? allOptions({ name: "", summary: "" }) : allOptions(command);
  if (word.startsWith("--")) return specs[word.slice(2).split("=")[0] ?? ""];
  return Object.values(specs).find((spec) => spec.short !== undefined && word === `-${spec.short}`);
}

/** What the words before the cursor amount to. */
interface Position {
  command: AnyCommand | undefined;
  help: boolean;
  positionals: string[];
  pending: OptionSpec | undefined;
  afterSeparator: boolean;
}

async function walk(before: string[]): Promise<Position | undefined> {
  const at: Position = { command: undefined, help: false, positionals: [], pending: undefined, afterSeparator: false };
  for (const word of before) {
    if (at.pending !== undefined) at.pending = undefined;
    else if (word === "--") at.afterSeparator = true;
    else if (word.startsWith("-")) {
      const spec = findOption(at.command, word);
      if (spec?.type === "string" && !word.includes("=")) at.pending = spec;
    } else if (at.command === undefined && !at.help && word === "help") at.help = true;
    else if (at.command === undefined) {
      at.command = await load(word);
      if (at.command === undefined) return undefined;
    } else if (at.command.subcommands !== undefined) {
      at.command = Object.hasOwn(at.command.subcommands, word) ? at.command.subcommands[word] : undefined;
      if (at.command === undefined) return undefined;
    } else at.positionals.push(word);
  }
  return at;
}

async function valuesFor(spec: OptionSpec, at: Position, source: NameSource): Promise<string[]> {
  if (spec.choices !== undefined) return [...spec.choices];
  if (spec.kind === undefined) return [];
  return source.names(spec.kind, spec.kind === "connection" ? at.positionals[0] : undefined);
}

async function nextWord(at: Position, source: NameSource): Promise<string[]> {
  if (at.command === undefined) return at.help ? visibleCommandNames() : [...visibleCommandNames(), "help"];
  if (at.command.subcommands !== undefined) return Object.keys(at.command.subcommands);
  if (at.help) return [];
  const placeholder = at.command.args?.[at.positionals.length];
  const choices = placeholderChoices(placeholder);
  if (choices !== undefined) return choices;
  const kind = argKind(placeholder);
  if (kind === undefined) return [];
  return source.names(kind, kind === "connection" ? at.positionals[0] : undefined);
}

/** Candidates for the last word of `words` (the one being typed), filtered by its prefix. */
export async function completionCandidates(words: string[], source: NameSource): Promise<string[]> {
  const current = words.at(-1) ?? "";
  const at = await walk(words.slice(0, -1));
  if (at === undefined || at.afterSeparator) return [];
  let candidates: string[];
  if (at.pending !== undefined) candidates = await valuesFor(at.pending, at, source);
  else if (current.startsWith("-")) {
    const specs = at.command === undefined ? allOptions({ name: "", summary: "" }) : allOptions(at.command);
    candidates = Object.keys(specs).map((name) => `--${name}`);
    if (at.command === undefined) candidates.push("--version");
  } else candidates = await nextWord(at, source);
  return [...new Set(candidates)].filter((c) => c.startsWith(current)).sort();
}
