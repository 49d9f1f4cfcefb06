/**
 * Commands as data: each verb is one file exporting `defineCommand({...})`. The entry point
 * parses argv against the definition (node:util parseArgs, strict) and calls `run`, so tests
 * can run commands in-process and `--help` is generated from the same definition.
 */
import { parseArgs } from "node:util";
import { AuthsomeError } from "../core/errors.ts";
import type { ApiClient } from "./client.ts";
import type { Output } from "./output.ts";

/** One option of a command. */
export interface OptionSpec {
  type: "string" | "boolean";
  short?: string;
  multiple?: boolean;
  description: string;
  /** Shown in help as the value's name, e.g. `NAME`. */
  value?: string;
}

/** What a command's `run` receives. */
export interface CommandContext {
  args: string[];
  options: Record<string, string | boolean | string[] | undefined>;
  api: ApiClient;
  out: Output;
  profile: string | undefined;
  /** The raw arguments after `--` (for `run`). */
  rest: string[];
}

/** A command definition. */
export interface Command {
  name: string;
  summary: string;
  /** Positional arguments, e.g. `["<provider>", "[connection]"]`. */
  args?: string[];
  options?: Record<string, OptionSpec>;
  /** Extra help text (examples). */
  examples?: string[];
  /** Sub-commands (`profile create`), each a full command. */
  subcommands?: Record<string, Command>;
  /** Returns the exit code (default 0). */
  run?(context: CommandContext): Promise<number | void>;
}

/** Declares a command (inference only). */
export function defineCommand<const T extends Command>(command: T): T {
  return command;
}

/** Options every command accepts. */
export const GLOBAL_OPTIONS: Record<string, OptionSpec> = {
  json: { type: "boolean", description: "machine-readable output on stdout" },
  profile: { type: "string", value: "NAME", description: "profile to use (AUTHSOME_PROFILE; default: default)" },
  quiet: { type: "boolean", short: "q", description: "no progress messages on stderr" },
  "no-color": { type: "boolean", description: "no colours (also NO_COLOR)" },
  help: { type: "boolean", short: "h", description: "show help" },
};

/** Parsed argv for one command. */
export interface ParsedArgs {
  positionals: string[];
  values: Record<string, string | boolean | string[] | undefined>;
  rest: string[];
}

/** Parses argv for a command; unknown options and missing arguments are usage errors. */
export function parseCommandArgs(command: Command, argv: string[]): ParsedArgs {
  const separator = argv.indexOf("--");
  const head = separator === -1 ? argv : argv.slice(0, separator);
  const rest = separator === -1 ? [] : argv.slice(separator + 1);
  const options = { ...GLOBAL_OPTIONS, ...command.options };
  let parsed;
  try {
    parsed = parseArgs({
      args: head,
      options: Object.fromEntries(Object.entries(options).map(([name, spec]) => [name, { type: spec.type, ...(spec.short ? { short: spec.short } : {}), ...(spec.multiple ? { multiple: true } : {}) }])),
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new AuthsomeError("usage", `${(error as Error).message.split("\n")[0]}`, { hint: `see: authsome ${command.name} --help` });
  }
  return { positionals: parsed.positionals, values: parsed.values as ParsedArgs["values"], rest };
}

/** Checks the positional count against the definition. */
export function checkPositionals(command: Command, positionals: string[]): void {
  const specs = command.args ?? [];
  const required = specs.filter((a) => a.startsWith("<")).length;
  if (specs.some((a) => a.startsWith("--"))) return; // `run -- <command>`: the command checks its own.
  const variadic = specs.some((a) => a.includes("..."));
  if (positionals.length < required) {
    throw new AuthsomeError("usage", `missing ${specs[positionals.length]} for \`authsome ${command.name}\``, { hint: `usage: authsome ${command.name} ${specs.join(" ")}` });
  }
  if (!variadic && positionals.length > specs.length) {
    throw new AuthsomeError("usage", `unexpected argument "${positionals[specs.length]?.slice(0, 40)}" for \`authsome ${command.name}\``, { hint: `usage: authsome ${command.name} ${specs.join(" ")}` });
  }
}

/** Help text for a command. */
export function commandHelp(command: Command): string {
  const lines = [`authsome ${command.name}${command.subcommands ? " <command>" : ""} ${(command.args ?? []).join(" ")}`.trimEnd(), "", command.summary, ""];
  if (command.subcommands !== undefined) {
    lines.push("Commands:");
    for (const sub of Object.values(command.subcommands)) lines.push(`  ${sub.name.padEnd(28)} ${sub.summary}`);
    lines.push("");
  }
  const describe = (name: string, spec: OptionSpec) => {
    const flag = `${spec.short ? `-${spec.short}, ` : "    "}--${name}${spec.value ? ` ${spec.value}` : ""}`;
    return `  ${flag.padEnd(30)} ${spec.description}`;
  };
  if (command.options !== undefined && Object.keys(command.options).length > 0) {
    lines.push("Options:", ...Object.entries(command.options).map(([n, s]) => describe(n, s)), "");
  }
  lines.push("Global options:", ...Object.entries(GLOBAL_OPTIONS).map(([n, s]) => describe(n, s)));
  if (command.examples !== undefined) lines.push("", "Examples:", ...command.examples.map((e) => `  ${e}`));
  return lines.join("\n");
}
