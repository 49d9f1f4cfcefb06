/**
 * Runs the real CLI as a subprocess on the runtime the test runs on. Under `npm test` that is the
 * packed package installed into a consumer project (AUTHSOME_TEST_PACKAGE, set by
 * scripts/test.mjs): `node <pkg>/bin/authsome.mjs` on Node, `deno run -A <pkg>/bin/authsome.mjs`
 * on Deno (Deno running the npm package). Without it (a test file run by hand), Node runs the
 * repository's bin/authsome.mjs and Deno src/cli/main.ts.
 */
import { type ChildProcess, spawn } from "node:child_process";
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

/** The installed package under test (scripts/test.mjs), if any. */
export const installedPackage: string | undefined = process.env["AUTHSOME_TEST_PACKAGE"] || undefined;

/** The argv prefix that starts the CLI on the current runtime. */
export function cliCommand(): { command: string; args: string[] } {
  const deno = currentRuntime() === "deno";
  if (installedPackage !== undefined) {
    const bin = join(installedPackage, "bin/authsome.mjs");
    return { command: process.execPath, args: deno ? ["run", "-A", bin] : [bin] };
  }
  if (deno) return { command: process.execPath, args: ["run", "-A", "--no-check", join(repoRoot, "src/cli/main.ts")] };
  return { command: process.execPath, args: [join(repoRoot, "bin/authsome.mjs")] };
}

/** Runs `authsome <args>` and collects its output. */
export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  const { command, args: prefix } = cliCommand();
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...process.env, NO_COLOR: "1", BROWSER: "false", ...options.env })) if (v !== undefined) env[k] = v;
  const child = spawn(command, [...prefix, ...args], { cwd: repoRoot, env, stdio: ["pipe", "pipe", "pipe"] });
  // A child that exits without reading its stdin closes it: the write then fails with EPIPE,
  // which is no failure of the run (its exit code and output say how it went).
  child.stdin.on("error", () => {});
  if (options.input === undefined) child.stdin.end();
  else child.stdin.end(options.input);
  return collectOutput(child);
}

/** Collects a spawned child's stdout and stderr until it closes. */
export function collectOutput(child: ChildProcess): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (d) => (stdout += d));
    child.stderr?.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** A temporary AUTHSOME_HOME, removed by `cleanup()`. */
export async function tempHome(prefix = "authsome-test-"): Promise<{ home: string; env: Record<string, string>; cleanup(): Promise<void> }> {
  const home = await mkdtemp(join(tmpdir(), prefix));
  // AUTHSOME_KEYRING=0: a test run on a desktop must not fill the user's keyring with test homes'
  // keys (test/cli/keyring.test.ts turns it back on against a private Secret Service).
  return { home, env: { AUTHSOME_HOME: home, AUTHSOME_PROFILE: "", AUTHSOME_STORAGE: "", AUTHSOME_MASTER_KEY: "", AUTHSOME_KEYRING: "0" }, cleanup: () => rm(home, { recursive: true, force: true }) };
}
