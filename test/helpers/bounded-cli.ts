/**
 * `runCli` with a bound: the CLI is killed (SIGKILL) after `limitMs` and the result says so, so
 * a regression to a hang fails the test instead of wedging the suite. `wrap` prefixes the argv
 * (e.g. `unshare -m sh -c ...`).
 */
import { spawn } from "node:child_process";
import { cliCommand, type CliResult } from "./cli.ts";
import { repoRoot } from "./spawn-runtime.ts";

/** Options for {@link runCliBounded}. */
export interface BoundedOptions {
  env?: Record<string, string | undefined>;
  input?: string;
  /** Killed after this long (default 30 s). */
  limitMs?: number;
  /** Commands put before the CLI's own argv. */
  wrap?: string[];
}

/** What a bounded run produced; `killed` is true when it ran past the limit. */
export interface BoundedResult extends CliResult {
  killed: boolean;
  ms: number;
}

/** Runs `authsome <args>` like runCli, killed after the limit. */
export function runCliBounded(args: string[], options: BoundedOptions = {}): Promise<BoundedResult> {
  const { command, args: prefix } = cliCommand();
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...process.env, NO_COLOR: "1", BROWSER: "false", ...options.env })) if (v !== undefined) env[k] = v;
  const argv = [...(options.wrap ?? []), command, ...prefix, ...args];
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0] ?? "", argv.slice(1), { cwd: repoRoot, env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      child.kill("SIGKILL");
    }, options.limitMs ?? 30_000);
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr, killed, ms: performance.now() - started });
    });
    // EPIPE from a child that exits without reading stdin is no failure of the run.
    child.stdin.on("error", () => {});
    child.stdin.end(options.input ?? "");
  });
}
