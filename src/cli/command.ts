/**
 * Commands as data: each verb is one file exporting `defineCommand({...})`. The entry point
 * parses argv against the definition (src/cli/parse.ts) and calls `run`; `--help`, shell
 * completion and flag suggestions come from the same definition. Option values are typed from
 * the specs (citty's `defineCommand<const T>`), so a command reads `options.connection` as
 * `string | undefined` and `options.force` as `boolean` without casts.
 */
import type { ApiClient } from "./client.ts";
import type { Output } from "./output.ts";

/** What a value names, for validation (connection, profile) and completion (all three). */
export type ValueKind = "provider" | "connection" | "profile";

/** One option of a command. */
export interface OptionSpec {
  type: "string" | "boolean";
  short?: string;
  /** Repeatable: the value is a list (`--connection a=x --connection b=y`). */
  multiple?: boolean;
  description: string;
  /** Shown in help as the value's name, e.g. `NAME`. */
  value?: string;
  /** A connection or profile value must be a valid name (exit 2 naming the flag otherwise). */
  kind?: ValueKind;
  /** The only values accepted (checked at parse time, offered by completion). */
  choices?: readonly string[];
}

/** Option specs by long name (without the dashes). */
export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

type OptionValue<S extends OptionSpec> = S["type"] extends "boolean"
  ? S["multiple"] extends true ? boolean[] : boolean
  : S["multiple"] extends true
    ? string[]
    : S["choices"] extends readonly (infer C extends string)[] ? C | undefined : string | undefined;

/** The parsed value type of each option: booleans default to false, lists to []. */
export type InferOptions<O extends OptionSpecs> = { -readonly [K in keyof O]: OptionValue<O[K]> };

/** Options every command accepts. */
export const GLOBAL_OPTIONS = {
  json: { type: "boolean", description: "machine-readable output on stdout" },
  profile: { type: "string", value: "NAME", kind: "profile", description: "profile to use (AUTHSOME_PROFILE; default: default)" },
  quiet: { type: "boolean", short: "q", description: "no progress messages on stderr" },
  "no-color": { type: "boolean", description: "no colours (also NO_COLOR; FORCE_COLOR forces them)" },
  help: { type: "boolean", short: "h", description: "show help" },
} as const satisfies OptionSpecs;

/** The global options' values, present in every command's `options`. */
export type GlobalOptions = InferOptions<typeof GLOBAL_OPTIONS>;

type Choices<S extends string> = S extends `${infer Head}|${infer Tail}` ? Head | Choices<Tail> : S;
type Positional<S extends string> = S extends `${string}...${string}`
  ? string
  : S extends `<${infer Inner}>` ? (Inner extends `${string}|${string}` ? Choices<Inner> : string) : string | undefined;

/** Positional values typed from their placeholders: `<x>` (and variadic `x...`) present, `[x]` optional, `<a|b>` one of the choices. */
export type InferArgs<A extends readonly string[]> = { -readonly [I in keyof A]: A[I] extends string ? Positional<A[I]> : never };

/** What a command's `run` receives. */
export interface CommandContext<O extends OptionSpecs = OptionSpecs, A extends readonly string[] = readonly string[]> {
  args: InferArgs<A>;
  options: InferOptions<O> & GlobalOptions;
  api: ApiClient;
  out: Output;
  profile: string | undefined;
  /** The raw arguments after `--` (for `run`). */
  rest: string[];
}

/**
 * A command definition. A positional whose placeholder is `<connection>` or `<profile>` is
 * checked as a name; `<provider>`, `<connection>` and `<profile>` are completed from the home.
 */
export interface Command<O extends OptionSpecs = OptionSpecs, A extends readonly string[] = readonly string[]> {
  name: string;
  summary: string;
  /** Positional arguments, e.g. `["<provider>", "[connection]"]`. */
  args?: A;
  options?: O;
  /** Extra help text (examples). */
  examples?: readonly string[];
  /** Sub-commands (`profile create`), each a full command. */
  subcommands?: Readonly<Record<string, AnyCommand>>;
  /** Hidden from help and completion (internal helpers such as `__complete`). */
  hidden?: boolean;
  /** Returns the exit code (default 0). */
  run?(context: CommandContext<O, A>): Promise<number | void>;
}

/** A command of any option shape (what registries and the entry point hold). */
export type AnyCommand = Command<OptionSpecs, readonly string[]>;

/** Declares a command; returns it unchanged (the generics give `run` its typed context). */
export function defineCommand<const O extends OptionSpecs = {}, const A extends readonly string[] = []>(command: Command<O, A>): Command<O, A> {
  return command;
}

/** Every option a command accepts: its own, then the global ones. */
export function allOptions(command: AnyCommand): OptionSpecs {
  return { ...GLOBAL_OPTIONS, ...command.options };
}

/** What a positional placeholder names (`<provider>` -> provider), if anything. */
export function argKind(placeholder: string | undefined): ValueKind | undefined {
  const word = /^[<[]([a-z]+)[>\]]$/.exec(placeholder ?? "")?.[1];
  return word === "provider" || word === "connection" || word === "profile" ? word : undefined;
}

/** The choices written into a placeholder, e.g. `<bash|zsh|fish>`. */
export function placeholderChoices(placeholder: string | undefined): string[] | undefined {
  const inner = /^[<[]([a-z0-9_|-]+)[>\]]$/.exec(placeholder ?? "")?.[1];
  return inner === undefined || !inner.includes("|") ? undefined : inner.split("|");
}

/** Help text for a command. */
export function commandHelp(command: AnyCommand): string {
  const lines = [`authsome ${command.name}${command.subcommands ? " <command>" : ""} ${(command.args ?? []).join(" ")}`.trimEnd(), "", command.summary, ""];
  if (command.subcommands !== undefined) {
    lines.push("Commands:");
    for (const sub of Object.values(command.subcommands)) lines.push(`  ${sub.name.padEnd(28)} ${sub.summary}`);
    lines.push("");
  }
  const describe = (name: string, spec: OptionSpec) => {
    const flag = `${spec.short ? `-${spec.short}, ` : "    "}--${name}${spec.value ? ` ${spec.value}` : ""}`;
    const choices = spec.choices === undefined ? "" : ` (${spec.choices.join(", ")})`;
    return `  ${flag.padEnd(30)} ${spec.description}${choices}`;
  };
  if (command.options !== undefined && Object.keys(command.options).length > 0) {
    lines.push("Options:", ...Object.entries(command.options).map(([n, s]) => describe(n, s)), "");
  }
  lines.push("Global options:", ...Object.entries(GLOBAL_OPTIONS).map(([n, s]) => describe(n, s)));
  if (command.examples !== undefined) lines.push("", "Examples:", ...command.examples.map((e) => `  ${e}`));
  return lines.join("\n");
}
