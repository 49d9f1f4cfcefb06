/**
 * The packed package as a consumer has it: scripts/test.mjs packs the repository, installs the
 * tarball into a temporary project (AUTHSOME_TEST_CONSUMER) and names the installed package
 * (AUTHSOME_TEST_PACKAGE). These helpers run code from that project on the runtime the test runs
 * on, so `import "authsome-broker"` resolves the way it does for users.
 */
import { spawn } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { currentRuntime } from "./spawn-runtime.ts";

/** The consumer project, when the run installed one. */
export const consumerDir: string | undefined = process.env["AUTHSOME_TEST_CONSUMER"] || undefined;

/** The reason to skip package tests when no packed package is installed (a file run by hand). */
export const packageSkip: string | false = consumerDir === undefined ? "needs the packed package: run through `npm test` (scripts/test.mjs)" : false;

/** What a consumer script produced. */
export interface ScriptResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The consumer project; throws when the run has none (tests skip first). */
export function consumer(): string {
  if (consumerDir === undefined) throw new Error(String(packageSkip));
  return consumerDir;
}

/** A fresh directory inside the consumer project (tests run in parallel; each writes its own). */
export function consumerScratch(prefix: string): Promise<string> {
  return mkdtemp(join(consumer(), `${prefix}-`));
}

/** Writes `source` as an .mjs file in `dir` and runs it (node, or `deno run -A`) from there. */
export async function runConsumerScript(dir: string, source: string, env: Record<string, string | undefined> = {}, timeoutMs = 60_000): Promise<ScriptResult> {
  const file = join(dir, "script.mjs");
  await writeFile(file, source);
  const args = currentRuntime() === "deno" ? ["run", "-A", file] : [file];
  const merged: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...process.env, NO_COLOR: "1", ...env })) if (v !== undefined) merged[k] = v;
  return runBounded(process.execPath, args, { cwd: dir, env: merged }, timeoutMs);
}

/** Runs a command to completion, killing it after `timeoutMs` (a hung child fails the test). */
export function runBounded(command: string, args: string[], options: { cwd: string; env?: Record<string, string>; input?: string }, timeoutMs = 60_000): Promise<ScriptResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal === "SIGKILL" ? -9 : -1), stdout, stderr });
    });
    // EPIPE from a child that exits without reading stdin is no failure of the run.
    child.stdin.on("error", () => {});
    child.stdin.end(options.input ?? "");
  });
}
