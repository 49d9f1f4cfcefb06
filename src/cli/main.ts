/**
 * The CLI entry: the only place that reads argv and decides the exit code. Commands live in
 * src/cli/registry.ts, loaded lazily; `help`, `-v` and did-you-mean are answered here.
 */
import "../register.ts";
import { getEnv } from "../runtime/index.ts";
import { writeStdio } from "../runtime/stdio.ts";
import { createInProcessClient, prefetchApi } from "./client.ts";
import { type AnyCommand, commandHelp } from "./command.ts";
import { createOutput, type Output } from "./output.ts";
import { createInteraction } from "./interaction.ts";
import { checkPositionals, parseCommandArgs } from "./parse.ts";
import { COMMANDS, loadCommand, pickSubcommand, visibleCommandNames } from "./registry.ts";
import { exitWhenDrained } from "./streams.ts";

export { exitWhenDrained };

/** Package version (kept in step with package.json by a test). */
export const VERSION = "0.1.0";

const GLOBAL_FLAGS = ["--json", "--quiet", "-q", "--no-color"];

function mainHelp(): string {
  const lines = ["authsome: a local credential broker for AI agents", "", "Usage: authsome <command> [options]", "", "Commands:"];
  for (const name of visibleCommandNames()) lines.push(`  ${name.padEnd(12)} ${COMMANDS[name]?.summary ?? ""}`);
  lines.push(
    "",
    "Global options: --json, --profile NAME, --quiet, --no-color, --help; -v, --version",
    "Run `authsome help <command>` (or `authsome <command> --help`) for a command's options.",
    "Docs: README.md and docs/cli.md",
  );
  return lines.join("\n");
}

/** Moves global options written before the command (`authsome --profile x list`) after it. */
function hoistGlobals(argv: string[]): string[] {
  const lead: string[] = [];
  let i = 0;
  while (i < argv.length) {
    const arg = argv[i] ?? "";
    if (arg === "--profile" && i + 1 < argv.length) {
      lead.push(arg, argv[i + 1] ?? "");
      i += 2;
    } else if (arg.startsWith("--profile=") || GLOBAL_FLAGS.includes(arg)) {
      lead.push(arg);
      i += 1;
    } else break;
  }
  return i === argv.length ? argv : [argv[i] ?? "", ...lead, ...argv.slice(i + 1)];
}

/** `authsome help [command [sub-command]]`. */
async function printHelp(words: string[]): Promise<number> {
  const [name, subName] = words.filter((w) => !w.startsWith("-"));
  if (name === undefined) {
    writeStdio(1, `${mainHelp()}\n`);
    return 0;
  }
  const command = await loadCommand(name);
  const picked = subName === undefined ? command : pickSubcommand(command, [subName]).command;
  writeStdio(1, `${commandHelp(picked)}\n`);
  return 0;
}

/** Parses argv for the picked command and runs it. */
async function runCommand(picked: { command: AnyCommand; argv: string[] }, signal: AbortSignal, setOut: (out: Output) => Output): Promise<number> {
  const parsed = parseCommandArgs(picked.command, picked.argv);
  const out = setOut(createOutput({ json: parsed.values["json"] === true, quiet: parsed.values["quiet"] === true, noColor: parsed.values["no-color"] === true }));
  if (parsed.values["help"] === true || picked.command.run === undefined) {
    writeStdio(1, `${commandHelp(picked.command)}\n`);
    return parsed.values["help"] === true ? 0 : 2;
  }
  checkPositionals(picked.command, parsed.positionals);
  const profile = typeof parsed.values["profile"] === "string" ? parsed.values["profile"] : getEnv("AUTHSOME_PROFILE");
  const interaction = createInteraction(out, () => parsed.values["no-browser"] === true, signal);
  const api = createInProcessClient({ profile, actor: `cli:${picked.command.name}`, interaction });
  // The parser filled every option from the command's own specs, so the values match its types.
  const options = parsed.values as Parameters<NonNullable<AnyCommand["run"]>>[0]["options"];
  const code = await picked.command.run({ args: parsed.positionals, options, api, out, profile, rest: parsed.rest });
  return code ?? 0;
}

/** Runs the CLI with `argv` (without the executable); returns the exit code. */
export async function main(rawArgv: string[]): Promise<number> {
  const argv = hoistGlobals(rawArgv);
  let out = createOutput({ json: argv.includes("--json"), quiet: argv.includes("--quiet") || argv.includes("-q"), noColor: argv.includes("--no-color") });
  const name = argv[0];
  if (name === undefined) {
    writeStdio(2, `${mainHelp()}\n`);
    return 2;
  }
  if (name === "--version" || name === "-v" || name === "-V") {
    writeStdio(1, `${VERSION}\n`);
    return 0;
  }
  const controller = new AbortController();
  const onSigint = () => controller.abort();
  process.once("SIGINT", onSigint);
  try {
    if (name === "--help" || name === "-h" || name === "help") return await printHelp(argv.slice(1));
    if (Object.hasOwn(COMMANDS, name) && COMMANDS[name]?.usesApi !== false) prefetchApi();
    const picked = pickSubcommand(await loadCommand(name), argv.slice(1));
    return await runCommand(picked, controller.signal, (next) => (out = next));
  } catch (error) {
    return out.error(error);
  } finally {
    process.off("SIGINT", onSigint);
  }
}

// Deno runs this file directly (`deno task authsome`); Node runs bin/authsome.mjs.
if ((import.meta as { main?: boolean }).main === true) {
  await exitWhenDrained(await main(process.argv.slice(2)));
}
