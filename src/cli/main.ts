/**
 * The CLI entry: the only place that reads argv and decides the exit code. Commands are loaded
 * lazily, one module per verb, so `authsome get` loads only what `get` needs.
 */
import { AuthsomeError } from "../core/errors.ts";
import { getEnv } from "../runtime/index.ts";
import { createInProcessClient } from "./client.ts";
import { checkPositionals, type Command, commandHelp, parseCommandArgs } from "./command.ts";
import { createOutput } from "./output.ts";
import { createInteraction } from "./interaction.ts";

/** Package version (kept in step with package.json by a test). */
export const VERSION = "0.1.0";

type Loader = () => Promise<{ default: Command }>;

const COMMANDS: Record<string, { summary: string; load: Loader }> = {
  login: { summary: "log in to a provider and store the connection", load: () => import("./commands/login.ts") },
  get: { summary: "show a connection (secrets redacted unless --show-secret)", load: () => import("./commands/get.ts") },
  export: { summary: "print a connection's env variables (env, json or shell)", load: () => import("./commands/export.ts") },
  list: { summary: "list providers and their connections", load: () => import("./commands/list.ts") },
  inspect: { summary: "show a provider's definition and connections", load: () => import("./commands/inspect.ts") },
  logout: { summary: "remove local connection records (the provider is not contacted)", load: () => import("./commands/logout.ts") },
  revoke: { summary: "revoke tokens at the provider, then remove local records and the saved client", load: () => import("./commands/revoke.ts") },
  default: { summary: "make a connection the provider's default", load: () => import("./commands/default.ts") },
  run: { summary: "run a command behind a proxy that injects credentials", load: () => import("./commands/run.ts") },
  serve: { summary: "run the local API daemon in the foreground", load: () => import("./commands/serve.ts") },
  profile: { summary: "create, list and remove profiles", load: () => import("./commands/profile.ts") },
  providers: { summary: "list, install and remove provider plugins", load: () => import("./commands/providers.ts") },
  audit: { summary: "read and verify the audit log", load: () => import("./commands/audit.ts") },
  whoami: { summary: "show home, profile, storage and key source", load: () => import("./commands/whoami.ts") },
  doctor: { summary: "check the installation and say how to fix problems", load: () => import("./commands/doctor.ts") },
};

function mainHelp(): string {
  const lines = ["authsome: a local credential broker for AI agents", "", "Usage: authsome <command> [options]", "", "Commands:"];
  for (const [name, { summary }] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(12)} ${summary}`);
  lines.push("", "Global options: --json, --profile NAME, --quiet, --no-color, --help", "Run `authsome <command> --help` for a command's options.", "Docs: README.md and docs/cli.md");
  return lines.join("\n");
}

function pickCommand(command: Command, argv: string[]): { command: Command; argv: string[] } {
  if (command.subcommands === undefined) return { command, argv };
  const name = argv.find((arg) => !arg.startsWith("-"));
  if (name === undefined) return { command, argv };
  const sub = command.subcommands[name];
  if (sub === undefined) throw new AuthsomeError("usage", `unknown command "${command.name} ${name.slice(0, 40)}"`, { hint: `see: authsome ${command.name} --help` });
  const index = argv.indexOf(name);
  return { command: sub, argv: [...argv.slice(0, index), ...argv.slice(index + 1)] };
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
    } else if (arg.startsWith("--profile=") || ["--json", "--quiet", "-q", "--no-color"].includes(arg)) {
      lead.push(arg);
      i += 1;
    } else break;
  }
  return i === argv.length ? argv : [argv[i] ?? "", ...lead, ...argv.slice(i + 1)];
}

/** Runs the CLI with `argv` (without the executable); returns the exit code. */
export async function main(rawArgv: string[]): Promise<number> {
  const argv = hoistGlobals(rawArgv);
  const globalsOnly = { json: argv.includes("--json"), quiet: argv.includes("--quiet") || argv.includes("-q"), noColor: argv.includes("--no-color") };
  let out = createOutput(globalsOnly);
  const name = argv[0];
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(`${mainHelp()}\n`);
    return name === undefined ? 2 : 0;
  }
  if (name === "--version" || name === "-V") {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const entry = COMMANDS[name];
  if (entry === undefined) {
    const near = Object.keys(COMMANDS).filter((c) => c.startsWith(name.slice(0, 2)));
    return out.error(new AuthsomeError("usage", `unknown command "${name.slice(0, 40)}"`, { hint: near.length ? `did you mean: ${near.join(", ")}?` : "see: authsome --help" }));
  }
  const controller = new AbortController();
  const onSigint = () => controller.abort();
  process.once("SIGINT", onSigint);
  try {
    const picked = pickCommand((await entry.load()).default, argv.slice(1));
    const parsed = parseCommandArgs(picked.command, picked.argv);
    out = createOutput({ json: parsed.values["json"] === true, quiet: parsed.values["quiet"] === true, noColor: parsed.values["no-color"] === true });
    if (parsed.values["help"] === true || picked.command.run === undefined) {
      process.stdout.write(`${commandHelp(picked.command)}\n`);
      return parsed.values["help"] === true ? 0 : 2;
    }
    checkPositionals(picked.command, parsed.positionals);
    const profile = typeof parsed.values["profile"] === "string" ? parsed.values["profile"] : getEnv("AUTHSOME_PROFILE");
    const interaction = createInteraction(out, () => parsed.values["no-browser"] === true, controller.signal);
    const api = createInProcessClient({ profile, actor: `cli:${picked.command.name}`, interaction });
    const code = await picked.command.run({ args: parsed.positionals, options: parsed.values, api, out, profile, rest: parsed.rest });
    return code ?? 0;
  } catch (error) {
    return out.error(error);
  } finally {
    process.off("SIGINT", onSigint);
  }
}

// Deno runs this file directly (`deno task authsome`); Node runs bin/authsome.mjs.
if ((import.meta as { main?: boolean }).main === true) {
  const code = await main(process.argv.slice(2));
  process.exit(code);
}
