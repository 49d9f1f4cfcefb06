/**
 * Argv against a command definition. node:util's parseArgs tokenises (short groups, `--x=v`,
 * `-cVALUE`), but in its non-strict mode, so that every mistake is reported here as one line
 * naming the flag, with a suggestion, instead of parseArgs' own messages (quoted artefacts such
 * as `Unknown option '--flw'. To specify a positional argument starting with a '-', ...`).
 */
import { parseArgs } from "node:util";
import { NAME_PATTERN } from "../core/context.ts";
import { AuthsomeError } from "../core/errors.ts";
import { allOptions, type AnyCommand, argKind, type OptionSpec, type OptionSpecs, placeholderChoices } from "./command.ts";
import { didYouMean } from "./suggest.ts";

/** Parsed argv for one command. */
export interface ParsedArgs {
  positionals: string[];
  values: Record<string, string | boolean | string[] | boolean[]>;
  rest: string[];
}

type Token = NonNullable<ReturnType<typeof parseArgs>["tokens"]>[number];
type OptionToken = Extract<Token, { kind: "option" }>;

const MAX_NAME = 64;

/** A value shown in a message: quoted, control characters escaped, cut short. */
export function shown(value: string): string {
  return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
}

/** Checks a connection or profile name given as `what` (a flag or a placeholder). */
export function checkNameValue(what: string, value: string): void {
  const hint = `names are 1-${MAX_NAME} letters, digits, '.', '_' or '-', starting with a letter or digit`;
  if (value === "") throw new AuthsomeError("usage", `${what} needs a name, got an empty value`, { hint });
  if (value.length > MAX_NAME) throw new AuthsomeError("usage", `${what} is too long (${value.length} characters, at most ${MAX_NAME})`, { hint });
  if (!NAME_PATTERN.test(value)) throw new AuthsomeError("usage", `${what} ${shown(value)} is not a valid name`, { hint });
}

function usage(command: AnyCommand, message: string): AuthsomeError {
  return new AuthsomeError("usage", message, { hint: `see: authsome ${command.name} --help` });
}

function unknownOption(command: AnyCommand, specs: OptionSpecs, token: OptionToken): AuthsomeError {
  const long = token.rawName.startsWith("--");
  const names = long ? Object.keys(specs) : Object.values(specs).flatMap((s) => (s.short === undefined ? [] : [s.short]));
  const near = didYouMean(token.rawName.replace(/^--?/, ""), names, long ? "--" : "-");
  return usage(command, `unknown option ${token.rawName} for \`authsome ${command.name}\`${near === undefined ? "" : `; ${near}`}`);
}

/** Checks one option token against its spec; returns the value to store. */
function optionValue(command: AnyCommand, flag: string, spec: OptionSpec, token: OptionToken): string | boolean {
  if (spec.type === "boolean") {
    if (token.value !== undefined) throw usage(command, `${flag} takes no value (write ${flag} alone)`);
    return true;
  }
  const value = token.value;
  const form = `${flag} ${spec.value ?? "VALUE"}`;
  if (value === undefined) throw usage(command, `${flag} needs a value (${form})`);
  // `--connection --force`: parseArgs would take the next flag as the value; a typo, not intent.
  if (token.inlineValue === false && value.startsWith("-") && value !== "-") {
    throw usage(command, `${flag} needs a value, got the option ${value.split("=")[0]} (write ${flag}=${value.split("=")[0]} if that is the value)`);
  }
  if (spec.choices !== undefined && !spec.choices.includes(value)) {
    throw usage(command, `${flag} ${shown(value)} is not one of: ${spec.choices.join(", ")}`);
  }
  if (spec.kind === "connection" || spec.kind === "profile") checkNameValue(flag, value);
  return value;
}

/** `-connection` is read by parseArgs as `-c onnection`: say that long options take two dashes. */
function checkSingleDashLong(command: AnyCommand, specs: OptionSpecs, head: string[]): void {
  for (const arg of head) {
    const name = /^-([a-z][a-z-]+)(=.*)?$/.exec(arg)?.[1];
    if (name !== undefined && Object.hasOwn(specs, name)) throw usage(command, `${arg.split("=")[0]}: long options take two dashes (--${name})`);
  }
}

/** Parses argv for a command; every mistake is a usage error naming the flag. */
export function parseCommandArgs(command: AnyCommand, argv: string[]): ParsedArgs {
  const separator = argv.indexOf("--");
  const head = separator === -1 ? argv : argv.slice(0, separator);
  const rest = separator === -1 ? [] : argv.slice(separator + 1);
  const specs = allOptions(command);
  checkSingleDashLong(command, specs, head);
  const config = Object.fromEntries(Object.entries(specs).map(([name, spec]) => [name, { type: spec.type, ...(spec.short ? { short: spec.short } : {}) }]));
  const { tokens } = parseArgs({ args: head, options: config, strict: false, allowPositionals: true, tokens: true });
  const values: ParsedArgs["values"] = {};
  for (const [name, spec] of Object.entries(specs)) {
    if (spec.multiple === true) values[name] = [];
    else if (spec.type === "boolean") values[name] = false;
  }
  const positionals: string[] = [];
  for (const token of tokens) {
    if (token.kind === "positional") positionals.push(token.value);
    if (token.kind !== "option") continue;
    const spec = Object.hasOwn(specs, token.name) ? specs[token.name] : undefined;
    if (spec === undefined) throw unknownOption(command, specs, token);
    const value = optionValue(command, token.rawName, spec, token);
    const list = values[token.name];
    if (spec.multiple === true && Array.isArray(list)) (list as (string | boolean)[]).push(value);
    else values[token.name] = value;
  }
  return { positionals, values, rest };
}

/** Checks the positional count against the definition, and names given as positionals. */
export function checkPositionals(command: AnyCommand, positionals: string[]): void {
  const specs = command.args ?? [];
  if (specs.some((a) => a.startsWith("--"))) return; // `run -- <command>`: the command checks its own.
  const required = specs.filter((a) => a.startsWith("<")).length;
  const variadic = specs.some((a) => a.includes("..."));
  const usageLine = `usage: authsome ${command.name} ${specs.join(" ")}`;
  if (positionals.length < required) {
    throw new AuthsomeError("usage", `missing ${specs[positionals.length]} for \`authsome ${command.name}\``, { hint: usageLine });
  }
  if (!variadic && positionals.length > specs.length) {
    throw new AuthsomeError("usage", `unexpected argument ${shown(positionals[specs.length] ?? "")} for \`authsome ${command.name}\``, { hint: usageLine });
  }
  for (const [index, value] of positionals.entries()) {
    const choices = placeholderChoices(specs[index]);
    if (choices !== undefined && !choices.includes(value)) {
      throw new AuthsomeError("usage", `${shown(value)} is not one of: ${choices.join(", ")}`, { hint: usageLine });
    }
    const kind = argKind(specs[index]);
    if (kind === "connection" || kind === "profile") checkNameValue(specs[index] ?? kind, value);
  }
}
