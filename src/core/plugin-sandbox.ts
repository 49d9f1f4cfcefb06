/**
 * Runs a compiled plugin module in a child process of the same runtime and reads its default
 * export back as JSON. A plugin's top level is third-party code: in-process, a loop at import
 * wedged `providers add` (a busy loop cannot be interrupted from the same thread), and a
 * `process.exit(0)` ended it with exit 0 and nothing installed. In a child, each is one
 * plugin_invalid error naming the source, and the CLI keeps working.
 *
 * The child gets no secrets: a short list of environment variables (no AUTHSOME_*, no
 * NODE_OPTIONS), no stdin; its stdout is bounded (1 MiB) and its time limited
 * (`AUTHSOME_PLUGIN_TIMEOUT`, seconds, default 10), then it is killed. On Deno it also runs
 * with read and env permissions only (no network, writes or subprocesses), and cannot read the
 * authsome home (master key, vault). On Node it can read what the user can, as before.
 */
import { Buffer } from "node:buffer";
import { rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import * as v from "valibot";
import { AuthsomeError } from "./errors.ts";
import { pluginError } from "./plugin-schema.ts";
import { getEnv, scriptCommand } from "../runtime/index.ts";

const MAX_STDOUT = 1024 * 1024;
const MAX_STDERR = 4096;
const DEFAULT_TIMEOUT_S = 10;
const DRAIN_MS = 1000;
// What a child needs to start and find its caches; everything else (tokens, keys) stays out.
const CHILD_ENV = ["PATH", "HOME", "USERPROFILE", "TMPDIR", "TMP", "TEMP", "LANG", "LC_ALL", "TZ", "SYSTEMROOT", "DENO_DIR", "XDG_CACHE_HOME"];

// The child's side: import, check the default export is plain JSON data, print it after a
// marker line (the plugin may print too), exit at once (timers the plugin left do not count).
const LOADER = `import process from "node:process";
const [url, marker] = process.argv.slice(2);
function problemOf(value, path, depth) {
  if (depth > 32) return { path, problem: "nested too deeply (a cycle?)" };
  if (value === null || typeof value === "string" || typeof value === "boolean") return null;
  if (typeof value === "number") return Number.isFinite(value) ? null : { path, problem: "expected a finite number, got " + value };
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) { const p = problemOf(value[i], path + "[" + i + "]", depth + 1); if (p) return p; }
    return null;
  }
  if (typeof value === "object") {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return { path, problem: "expected plain data, got " + (value.constructor?.name ?? "an object") };
    for (const [k, v] of Object.entries(value)) {
      if (v === undefined) continue;
      const p = problemOf(v, path === "" ? k : path + "." + k, depth + 1);
      if (p) return p;
    }
    return null;
  }
  return { path, problem: "expected JSON data, got " + (typeof value === "function" ? "a function" : typeof value) };
}
let answer;
try {
  const module = await import(url);
  if (module.default === undefined) answer = { kind: "no_default" };
  else {
    // A sign hook is kept as its source text (core/plugin-sign.ts runs it in its own sandbox).
    const value = typeof module.default?.sign === "function" ? { ...module.default, sign: { source: module.default.sign.toString() } } : module.default;
    const problem = problemOf(value, "", 0);
    answer = problem ? { kind: "not_json", ...problem } : { kind: "ok", value };
  }
} catch (error) {
  const e = error instanceof Error ? error : new Error(String(error));
  answer = { kind: "threw", name: e.name, message: String(e.message).slice(0, 2000), stack: String(e.stack ?? "").slice(0, 4000) };
}
process.stdout.write("\\n" + marker + JSON.stringify(answer) + "\\n", () => process.exit(0));
`;

/** What the child prints after its marker (parsed: the plugin could print a look-alike). */
const AnswerSchema = v.variant("kind", [
  v.object({ kind: v.literal("ok"), value: v.unknown() }),
  v.object({ kind: v.literal("no_default") }),
  v.object({ kind: v.literal("not_json"), path: v.string(), problem: v.string() }),
  v.object({ kind: v.literal("threw"), name: v.string(), message: v.string(), stack: v.string() }),
]);

/** How the child ended. */
interface ChildOutcome {
  stdout: string;
  stderr: string;
  code: number | null;
  signal: string | null;
  limit?: "time" | "output";
}

/** Options for {@link loadModuleIsolated}. */
export interface IsolateOptions {
  /** Directories the module must not read (the authsome home); enforced on Deno. */
  privateDirs?: string[];
}

/** The load time limit in milliseconds (`AUTHSOME_PLUGIN_TIMEOUT` seconds, default 10). */
export function pluginTimeoutMs(): number {
  const text = getEnv("AUTHSOME_PLUGIN_TIMEOUT");
  if (text === undefined) return DEFAULT_TIMEOUT_S * 1000;
  const seconds = Number(text);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 600) {
    throw new AuthsomeError("usage", "AUTHSOME_PLUGIN_TIMEOUT must be a number of seconds (more than 0, at most 600)");
  }
  return Math.round(seconds * 1000);
}

/**
 * Imports the compiled module at `file` in a child process and returns its default export
 * (plain JSON data, not yet validated). Errors are plugin_invalid naming `source`.
 */
export async function loadModuleIsolated(file: string, source: string, options: IsolateOptions = {}): Promise<unknown> {
  const timeoutMs = pluginTimeoutMs();
  const loader = join(dirname(file), `.authsome-loader-${crypto.randomUUID()}.mjs`);
  const marker = `authsome-plugin-answer-${crypto.randomUUID()}:`;
  await writeFile(loader, LOADER, { mode: 0o600 });
  try {
    const outcome = await _runChild(loader, [pathToFileURL(file).href, marker], dirname(file), timeoutMs, options.privateDirs ?? []);
    return _answerOf(outcome, marker, file, source, timeoutMs);
  } finally {
    await rm(loader, { force: true });
  }
}

function _childEnv(): Record<string, string> {
  const env: Record<string, string> = { NO_COLOR: "1" };
  for (const name of CHILD_ENV) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return env;
}

/** Spawns the loader; kills it (SIGKILL) past the time limit or the output bound. */
async function _runChild(loader: string, args: string[], cwd: string, timeoutMs: number, privateDirs: string[]): Promise<ChildOutcome> {
  const { spawn } = await import("node:child_process"); // only `providers add` spawns
  const { command, args: argv } = scriptCommand(loader, args, { read: true, env: true, denyRead: privateDirs });
  return new Promise((resolve, reject) => {
    const child = spawn(command, argv, { cwd, env: _childEnv(), stdio: ["ignore", "pipe", "pipe"] });
    const out: Uint8Array[] = [];
    let outBytes = 0;
    let stderr = "";
    let limit: ChildOutcome["limit"];
    const stop = (why: "time" | "output"): void => {
      limit ??= why;
      child.kill("SIGKILL");
    };
    const timer = setTimeout(() => stop("time"), timeoutMs);
    child.stdout.on("data", (chunk: Uint8Array) => {
      outBytes += chunk.length;
      if (outBytes > MAX_STDOUT) return stop("output");
      out.push(chunk);
    });
    child.stderr.on("data", (chunk: Uint8Array) => {
      if (stderr.length < MAX_STDERR) stderr += new TextDecoder().decode(chunk).slice(0, MAX_STDERR - stderr.length);
    });
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(new AuthsomeError("internal", `cannot start ${command} to load the plugin`, { cause: error }));
    });
    const finish = (code: number | null, signal: string | null): void => {
      clearTimeout(timer);
      clearTimeout(drain);
      const stdout = Buffer.concat(out).toString("utf8");
      resolve({ stdout, stderr, code, signal, ...(limit === undefined ? {} : { limit }) });
    };
    let drain: ReturnType<typeof setTimeout> | undefined;
    child.on("close", finish);
    // A process the plugin started may hold our pipes open after the child is gone: "close"
    // would wait for it. Past a short drain after "exit", the pipes are dropped.
    child.on("exit", (code, signal) => {
      drain = setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
        finish(code, signal);
      }, DRAIN_MS);
    });
  });
}

function _answerOf(outcome: ChildOutcome, marker: string, file: string, source: string, timeoutMs: number): unknown {
  // The child's stderr is kept as the cause only: shown with AUTHSOME_DEBUG=1, never by default.
  const cause = outcome.stderr === "" ? undefined : new Error(outcome.stderr);
  if (outcome.limit === "time") {
    throw pluginError(source, "", `the module did not finish loading within ${timeoutMs / 1000} s (a loop or a wait at its top level?); nothing was installed`, cause);
  }
  if (outcome.limit === "output") throw pluginError(source, "", "the module printed more than 1 MiB while loading; nothing was installed", cause);
  const at = outcome.stdout.lastIndexOf(`\n${marker}`);
  if (at < 0) {
    const how = outcome.signal !== null ? `was killed by ${outcome.signal}` : `exited with code ${outcome.code ?? "?"}`;
    throw pluginError(source, "", `the module ${how} while loading (a plugin must not exit or crash at import); nothing was installed`, cause);
  }
  const line = outcome.stdout.slice(at + marker.length + 1).split("\n")[0] ?? "";
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    json = undefined;
  }
  const parsed = v.safeParse(AnswerSchema, json);
  if (!parsed.success) throw pluginError(source, "", "the module's loader gave no readable answer; nothing was installed", cause);
  const answer = parsed.output;
  if (answer.kind === "ok") return answer.value;
  if (answer.kind === "no_default") throw pluginError(source, "", "the module has no default export");
  if (answer.kind === "not_json") throw pluginError(source, answer.path, answer.problem);
  throw pluginError(source, "", `cannot load module (${_loadErrorLine(answer, file, source)})`, cause);
}

/** One line for a module that failed to load: its message, with the line it failed at. */
function _loadErrorLine(error: { name: string; message: string; stack: string }, file: string, source: string): string {
  const url = pathToFileURL(file).href;
  const message = `${error.name === "Error" ? "" : `${error.name}: `}${error.message}`;
  const text = `${message}\n${error.stack}`;
  const escaped = [url, file, fileURLToPath(url)].map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|");
  const line = new RegExp(`(?:${escaped}):(\\d+)`).exec(text)?.[1];
  const first = (message.split("\n")[0] ?? "").replaceAll(url, source).replaceAll(file, source);
  return line === undefined ? first : `line ${line}: ${first}`;
}
