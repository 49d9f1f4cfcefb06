/**
 * Runs the real CLI as a subprocess on the runtime the test runs on: Node runs the built
 * bin/authsome.mjs (as users do after `npm install`), Deno runs src/cli/main.ts.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { currentRuntime, repoRoot } from "./spawn-runtime.ts";

/** What a CLI run produced. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Options for {@link runCli}. */
export interface CliOptions {
  env?: Record<string, string | undefined>;
  /** Written to stdin, then stdin is closed (so stdin is not a TTY). */
  input?: string;
}

/** The argv prefix that starts the CLI on the current runtime. */
export function cliCommand(): { command: string; args: string[] } {
  if (currentRuntime() === "deno") return { command: process.execPath, args: ["run", "-A", "--no-check", join(repoRoot, "src/cli/main.ts")] };
  return { command: process.execPath, args: [join(repoRoot, "bin/authsome.mjs")] };
}

/** Runs `authsome <args>` and collects its output. */
export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  const { command, args: prefix } = cliCommand();
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...process.env, NO_COLOR: "1", BROWSER: "false", ...options.env })) if (v !== undefined) env[k] = v;
  return new Promise((resolve, reject) => {
    const child = spawn(command, [...prefix, ...args], { cwd: repoRoot, env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(options.input ?? "");
  });
}

/** A temporary AUTHSOME_HOME, removed by `cleanup()`. */
export async function tempHome(prefix = "authsome-test-"): Promise<{ home: string; env: Record<string, string>; cleanup(): Promise<void> }> {
  const home = await mkdtemp(join(tmpdir(), prefix));
  return { home, env: { AUTHSOME_HOME: home, AUTHSOME_PROFILE: "", AUTHSOME_STORAGE: "", AUTHSOME_MASTER_KEY: "" }, cleanup: () => rm(home, { recursive: true, force: true }) };
}
