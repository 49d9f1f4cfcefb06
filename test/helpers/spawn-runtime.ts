/**
 * Builds the command line that runs a TypeScript file on Node (through tsx) or on Deno, so
 * tests can spawn children on the runtime they run on, or on the other one.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** A JavaScript runtime the tests can spawn. */
export type Runtime = "node" | "deno";

/** A command ready for `child_process.spawn(command, args, { cwd })`. */
export interface RuntimeCommand {
  command: string;
  args: string[];
  /** The repository root: Node resolves `--import tsx` and Deno finds deno.json from here. */
  cwd: string;
}

/** The repository root (this file is test/helpers/spawn-runtime.ts). */
export const repoRoot: string = fileURLToPath(new URL("../../", import.meta.url));

/** The runtime executing this process. */
export function currentRuntime(): Runtime {
  return typeof process.versions["deno"] === "string" ? "deno" : "node";
}

function _executable(runtime: Runtime): string {
  // Deno's process.execPath is the deno binary, Node's the node binary.
  if (runtime === currentRuntime()) return process.execPath;
  if (runtime === "node") return "node";
  const local = fileURLToPath(new URL("../../node_modules/.bin/deno", import.meta.url));
  return existsSync(local) ? local : "deno";
}

/**
 * The command running `scriptPath` with `args` on `runtime` (default: the current one).
 * Deno gets `-A --no-check` (type-checking is `npm run typecheck`'s job, not every spawn's).
 */
export function runtimeCommand(scriptPath: string, args: string[] = [], runtime: Runtime = currentRuntime()): RuntimeCommand {
  const command = _executable(runtime);
  const prefix = runtime === "deno" ? ["run", "-A", "--no-check"] : ["--import", "tsx"];
  return { command, args: [...prefix, scriptPath, ...args], cwd: repoRoot };
}
