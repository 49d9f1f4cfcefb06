/**
 * The OS keyring (Secret Service on Linux, macOS Keychain, Windows Credential Manager) through
 * `@napi-rs/keyring`, an optional dependency whose npm packages carry prebuilt binaries.
 *
 * Every call runs in a short-lived child (./keyring-child.mjs) with a deadline, and is killed
 * (SIGKILL) past it: the binding's calls block the calling thread, and with a hung D-Bus even its
 * constructor never returns (measured: a socket that accepts and never answers). In-process, no
 * timer could fire; a worker cannot be terminated while blocked, and process.exit() then waits
 * for it forever (measured on Node 20). The child costs one runtime start per call (55-110 ms
 * here), paid by commands on a keyring home; a daemon pays it once.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { AuthsomeError } from "../core/errors.ts";
import { getEnv, runtime } from "./index.ts";

/** One keyring entry. */
export interface KeyringEntry {
  service: string;
  account: string;
}

/** The platform's keyring, by the name users know it. */
export function keyringName(): string {
  if (process.platform === "darwin") return "macOS Keychain";
  if (process.platform === "win32") return "Windows Credential Manager";
  return "Secret Service";
}

const DEFAULT_TIMEOUT_S = 10;

/** `AUTHSOME_KEYRING_TIMEOUT` (seconds, default 10): how long one keyring call may take. */
export function keyringTimeoutMs(): number {
  const text = getEnv("AUTHSOME_KEYRING_TIMEOUT");
  if (text === undefined) return DEFAULT_TIMEOUT_S * 1000;
  const seconds = Number(text);
  if (!Number.isFinite(seconds) || seconds < 0.1 || seconds > 600) {
    throw new AuthsomeError("usage", "AUTHSOME_KEYRING_TIMEOUT must be a number of seconds (0.1-600)");
  }
  return Math.round(seconds * 1000);
}

/**
 * Why the keyring cannot be used here, found without calling it; undefined when it may be.
 * `AUTHSOME_KEYRING=0` turns it off; on Linux, without a session bus there is no Secret Service.
 */
export function keyringProblem(): string | undefined {
  const setting = getEnv("AUTHSOME_KEYRING");
  if (setting !== undefined && ["0", "false", "no", "off"].includes(setting.toLowerCase())) return "turned off by AUTHSOME_KEYRING=0";
  if (process.platform !== "linux") return undefined;
  if (getEnv("DBUS_SESSION_BUS_ADDRESS") !== undefined) return undefined;
  const runtimeDir = getEnv("XDG_RUNTIME_DIR");
  if (runtimeDir !== undefined && existsSync(join(runtimeDir, "bus"))) return undefined;
  return "no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set)";
}

/** Reads an entry's secret; null when the entry does not exist. */
export async function keyringGet(entry: KeyringEntry): Promise<string | null> {
  const value = await _call({ op: "get", ...entry });
  return typeof value === "string" ? value : null;
}

/** Creates or replaces an entry's secret. */
export async function keyringSet(entry: KeyringEntry, secret: string): Promise<void> {
  await _call({ op: "set", ...entry, secret });
}

/** Deletes an entry; false when there was none. */
export async function keyringDelete(entry: KeyringEntry): Promise<boolean> {
  return (await _call({ op: "delete", ...entry })) === true;
}

/** The accounts of every entry of `service` (never their secrets). */
export async function keyringAccounts(service: string): Promise<string[]> {
  const value = await _call({ op: "list", service, account: "-" });
  return Array.isArray(value) ? value.filter((a): a is string => typeof a === "string") : [];
}

/** What the child may see: what the platform's keyring client needs, never AUTHSOME_* secrets. */
const CHILD_ENV = ["PATH", "HOME", "USER", "LOGNAME", "DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR", "DISPLAY", "WAYLAND_DISPLAY", "TMPDIR", "DENO_DIR",
  "SystemRoot", "windir", "USERPROFILE", "APPDATA", "LOCALAPPDATA", "TEMP", "TMP"];

function _childEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of CHILD_ENV) {
    const value = getEnv(name);
    if (value !== undefined) env[name] = value;
  }
  return env;
}

/**
 * The helper sits at dist/runtime/ in the package (scripts/build.mjs) and beside this file in
 * src/runtime/; this module's own code is in dist/chunks/, so `../runtime/` names both.
 */
function _childScript(): string {
  return fileURLToPath(new URL("../runtime/keyring-child.mjs", import.meta.url));
}

function _unavailable(reason: string, cause?: unknown): AuthsomeError {
  return new AuthsomeError("keyring_unavailable", `the OS keyring (${keyringName()}) ${reason}`, {
    ...(cause === undefined ? {} : { cause }),
    hint: "start or unlock the keyring, or set AUTHSOME_MASTER_KEY; AUTHSOME_KEYRING=0 keeps new homes' keys in <home>/master.key",
  });
}

type Request = { op: "get" | "delete" | "list" } & KeyringEntry | { op: "set"; secret: string } & KeyringEntry;

async function _call(request: Request): Promise<unknown> {
  const problem = keyringProblem();
  if (problem !== undefined) throw _unavailable(`is not available: ${problem}`);
  const timeoutMs = keyringTimeoutMs();
  const script = _childScript();
  // Deno: FFI to load the addon, reads for node_modules, env for the binding's loader; no network.
  const args = runtime === "deno" ? ["run", "--quiet", "--no-prompt", "--allow-ffi", "--allow-read", "--allow-env", script] : [script];
  const { spawn } = await import("node:child_process");
  const outcome = await new Promise<{ stdout: string; code: number | null; timedOut: boolean; error?: Error }>((resolve) => {
    const child = spawn(process.execPath, args, { env: _childEnv(), stdio: ["pipe", "pipe", "ignore"] });
    let stdout = "";
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.stdout.on("data", (chunk: Uint8Array) => {
      if (stdout.length < 65_536) stdout += new TextDecoder().decode(chunk);
    });
    child.on("error", (error) => {
      clearTimeout(timer);
      resolve({ stdout, code: null, timedOut, error });
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ stdout, code, timedOut });
    });
    child.stdin.on("error", () => {}); // a child that died early; reported by its answer
    child.stdin.end(JSON.stringify(request));
  });
  if (outcome.timedOut) throw _unavailable(`did not answer within ${timeoutMs / 1000} s (a hung D-Bus or keyring daemon?); AUTHSOME_KEYRING_TIMEOUT sets the limit`);
  if (outcome.error !== undefined) throw _unavailable(`could not be reached: cannot start ${process.execPath}`, outcome.error);
  return _answer(outcome.stdout, outcome.code);
}

function _answer(stdout: string, code: number | null): unknown {
  let answer: { ok?: unknown; kind?: unknown; message?: unknown; value?: unknown } | undefined;
  try {
    answer = JSON.parse(stdout.trim().split("\n").pop() ?? "");
  } catch {
    answer = undefined;
  }
  if (answer === undefined || typeof answer !== "object" || answer === null) throw _unavailable(`helper exited with code ${code ?? "?"} and no answer`);
  if (answer.ok === true) return answer.value;
  const message = typeof answer.message === "string" ? answer.message.slice(0, 300) : "unknown error";
  if (answer.kind === "missing") throw _unavailable(`binding is not installed for ${process.platform}-${process.arch} (optional dependency @napi-rs/keyring: ${message})`);
  throw _unavailable(`refused the request: ${message}`);
}
