/**
 * The verbs of the CLI, loaded lazily (one module per verb, so `authsome get` loads only what
 * `get` needs), and the lookup from argv words to a command or sub-command, with did-you-mean
 * for a mistyped name. Help, completion and the entry point all read this one table.
 */
import { AuthsomeError } from "../core/errors.ts";
import type { AnyCommand } from "./command.ts";
import { didYouMean } from "./suggest.ts";

type Loader = () => Promise<{ default: AnyCommand }>;

/** Every top-level command: its one-line summary, how to load it, and whether it needs the API (main prefetches it). */
export const COMMANDS: Readonly<Record<string, { summary: string; load: Loader; hidden?: true; usesApi?: false }>> = {
  login: { summary: "log in to a provider and store the connection", load: () => import("./commands/login.ts") },
  get: { summary: "show a connection (secrets redacted unless --show-secret)", load: () => import("./commands/get.ts") },
  export: { summary: "print a connection's env variables (env, json or shell)", load: () => import("./commands/export.ts") },
  list: { summary: "list providers and their connections", load: () => import("./commands/list.ts") },
  inspect: { summary: "show a provider's definition and connections", load: () => import("./commands/inspect.ts") },
  logout: { summary: "remove local connection records (the provider is not contacted)", load: () => import("./commands/logout.ts") },
  revoke: { summary: "revoke tokens at the provider, then remove local records and the saved client", load: () => import("./commands/revoke.ts") },
  default: { summary: "make a connection the provider's default", load: () => import("./commands/default.ts") },
  mcp: { summary: "MCP servers by URL: list, stdio bridge (a drop-in for mcp-remote), import", load: () => import("./commands/mcp.ts") },
  run: { summary: "run a command behind a proxy that injects credentials", load: () => import("./commands/run.ts") },
  serve: { summary: "run the local API daemon in the foreground", load: () => import("./commands/serve.ts") },
  profile: { summary: "create, list and remove profiles", load: () => import("./commands/profile.ts") },
  providers: { summary: "list, install and remove provider plugins", load: () => import("./commands/providers.ts") },
  explain: { summary: "say which provider, connection and rule a URL would get (sends nothing)", load: () => import("./commands/explain.ts") },
  ui: { summary: "open the local dashboard in the browser (Ctrl-C ends it)", load: () => import("./commands/ui.ts") },
  audit: { summary: "read and verify the audit log", load: () => import("./commands/audit.ts") },
  whoami: { summary: "show home, profile, storage and key source", load: () => import("./commands/whoami.ts") },
  doctor: { summary: "check the installation and say how to fix problems", load: () => import("./commands/doctor.ts") },
  key: { summary: "rotate the home's master key (re-wrap, or --reencrypt every record)", load: () => import("./commands/key.ts"), usesApi: false },
  machine: { summary: "machines of a shared store: join, approve, list, remove (keys of their own, no copied master key)", load: () => import("./commands/machine.ts"), usesApi: false },
  completion: { summary: "print a shell completion script (bash, zsh or fish)", load: () => import("./commands/completion.ts"), usesApi: false },
  __complete: { summary: "completion candidates for the shell scripts", load: () => import("./commands/complete.ts"), hidden: true, usesApi: false },
};

/** The names users see (help, suggestions, completion). */
export function visibleCommandNames(): string[] {
  return Object.entries(COMMANDS).filter(([, entry]) => entry.hidden !== true).map(([name]) => name);
}

/** Loads a top-level command, or throws a usage error with a suggestion. */
export async function loadCommand(name: string): Promise<AnyCommand> {
  const entry = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (entry === undefined) {
    throw new AuthsomeError("usage", `unknown command ${JSON.stringify(name.slice(0, 40))}`, { hint: didYouMean(name, visibleCommandNames()) ?? "see: authsome --help" });
  }
  return (await entry.load()).default;
}

/** The index of the first word of argv that is neither an option nor a global option's value. */
function firstWord(argv: string[]): number {
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] ?? "";
    if (arg === "--") return -1;
    if (arg === "--profile") i += 1;
    else if (!arg.startsWith("-")) return i;
  }
  return -1;
}

/** Resolves `profile create ...` to the sub-command and the argv left for it. */
export function pickSubcommand(command: AnyCommand, argv: string[]): { command: AnyCommand; argv: string[] } {
  if (command.subcommands === undefined) return { command, argv };
  const index = firstWord(argv);
  if (index === -1) return { command, argv };
  const name = argv[index] ?? "";
  const sub = Object.hasOwn(command.subcommands, name) ? command.subcommands[name] : undefined;
  if (sub === undefined) {
    const hint = didYouMean(name, Object.keys(command.subcommands)) ?? `see: authsome ${command.name} --help`;
    throw new AuthsomeError("usage", `unknown command ${JSON.stringify(`${command.name} ${name.slice(0, 40)}`)}`, { hint });
  }
  return { command: sub, argv: [...argv.slice(0, index), ...argv.slice(index + 1)] };
}
