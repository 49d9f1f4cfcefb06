/**
 * The only module that knows whether it runs on Node or Deno. Everything else imports these
 * names. `node:` builtins (fs, path, os, child_process) behave the same on both runtimes and
 * are used directly elsewhere; what differs (serving HTTP, the executable)
 * lives here.
 */
import { accessSync, constants, readFileSync, realpathSync } from "node:fs";
import { createRequire } from "node:module";
import { homedir } from "node:os";
import { isAbsolute, join } from "node:path";
import { isTerminal } from "./stdio.ts";

/** The runtime executing this code. */
export type RuntimeName = "node" | "deno";

interface DenoLike {
  version: { deno: string };
  execPath(): string;
  serve(
    options: { hostname: string; port: number; onListen?: (addr: { port: number }) => void; signal?: AbortSignal },
    handler: (request: Request) => Response | Promise<Response>,
  ): { finished: Promise<void>; addr: { port: number }; shutdown(): Promise<void> };
}

function denoGlobal(): DenoLike | undefined {
  return (globalThis as { Deno?: DenoLike }).Deno;
}

/** Which runtime this is. */
export const runtime: RuntimeName = denoGlobal() === undefined ? "node" : "deno";

/** Reads an environment variable (undefined when unset or empty). */
export function getEnv(name: string): string | undefined {
  const value = process.env[name];
  return value === undefined || value === "" ? undefined : value;
}

/** The user's home directory. */
export function userHome(): string {
  return homedir();
}

/** True when standard input is an interactive terminal. */
export function stdinIsTty(): boolean {
  // fd 0 itself, not process.stdin: reading that getter builds a stream (a net.Socket for a
  // pipe), ~3 ms of every CLI start that only asks.
  return isTerminal(0);
}

/** Reads all of standard input as UTF-8 (for keys and secrets piped in; never argv). */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks).toString("utf8");
}

/** A running HTTP listener. */
export interface Listener {
  port: number;
  close(): Promise<void>;
}

/** Serves a fetch handler (a Hono app's `fetch`) on a loopback address. Port 0 = ephemeral. */
export async function serveFetch(
  handler: (request: Request) => Response | Promise<Response>,
  options: { hostname?: string; port?: number } = {},
): Promise<Listener> {
  const hostname = options.hostname ?? "127.0.0.1";
  const port = options.port ?? 0;
  const deno = denoGlobal();
  if (deno !== undefined) {
    const server = deno.serve({ hostname, port, onListen: () => {} }, handler);
    return {
      port: server.addr.port,
      // shutdown() lets in-flight responses finish (an abort cuts them off: the OAuth callback
      // page and the form's "Saved" page are sent just before the listener closes).
      close: async () => {
        await server.shutdown();
        await server.finished;
      },
    };
  }
  const { serve } = await import("@hono/node-server");
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: handler, hostname, port, overrideGlobalObjects: false }, (info) => {
      resolve({
        port: info.port,
        close: () =>
          new Promise<void>((done) => {
            // close() lets in-flight responses finish; idle keep-alive sockets are closed now.
            const closable = server as unknown as { close(cb: () => void): void; closeIdleConnections?: () => void };
            closable.close(() => done());
            closable.closeIdleConnections?.();
          }),
      });
    });
    server.on("error", reject);
  });
}

/** `BROWSER` may carry arguments and a `%s` placeholder (as Python's webbrowser reads it). */
function browserCommand(browser: string, url: string): [string, string[]] {
  const [command = browser, ...rest] = browser.trim().split(/\s+/);
  const args = rest.includes("%s") ? rest.map((arg) => (arg === "%s" ? url : arg)) : [...rest, url];
  return [command, args];
}

/** Whether a browser can be opened for the user here; when not, why (shown to the user). */
export type BrowserCheck = { ok: true } | { ok: false; reason: string };

/**
 * The one place that decides whether a browser is at hand: `BROWSER` set means yes; an SSH
 * session (SSH_CONNECTION / SSH_TTY) means the browser would open on the wrong machine; on
 * Linux and the BSDs, no DISPLAY and no WAYLAND_DISPLAY means there is no screen to open it on.
 */
export function browserAtHand(): BrowserCheck {
  if (getEnv("BROWSER") !== undefined) return { ok: true };
  if (getEnv("SSH_CONNECTION") !== undefined || getEnv("SSH_TTY") !== undefined) return { ok: false, reason: "this is an SSH session" };
  if (process.platform === "darwin" || process.platform === "win32") return { ok: true };
  if (getEnv("DISPLAY") === undefined && getEnv("WAYLAND_DISPLAY") === undefined) return { ok: false, reason: "there is no display (DISPLAY and WAYLAND_DISPLAY are unset)" };
  return { ok: true };
}

/**
 * Opens a URL for the user: `$BROWSER <url>` when BROWSER is set, else the platform opener.
 * The URL is passed as an argument, never through a shell. Returns false when nothing could
 * be started (the caller has already printed the URL).
 */
export function openBrowser(url: string): Promise<boolean> {
  const browser = getEnv("BROWSER");
  const [command, args] =
    browser !== undefined
      ? browserCommand(browser, url)
      : process.platform === "darwin"
        ? ["open", [url]]
        : process.platform === "win32"
          ? ["cmd", ["/c", "start", "", url]]
          : ["xdg-open", [url]];
  // child_process is loaded here, not at start-up: most commands never open a browser.
  return import("node:child_process").then(({ spawn }) => new Promise<boolean>((resolve) => {
    try {
      const child = spawn(command, args, { stdio: "ignore", detached: true });
      child.on("error", () => resolve(false));
      child.on("spawn", () => {
        child.unref();
        resolve(true);
      });
    } catch {
      resolve(false);
    }
  }));
}

// Upstream overrides (AUTHSOME_UPSTREAM_RESOLVE, AUTHSOME_UPSTREAM_CA) are read and applied in
// ./upstream.ts, the one reader for the proxy and the interceptor.

/**
 * Whether process `pid` may still exist: false only when the system says there is no such
 * process (ESRCH). EPERM (another user's) and anything else (Deno without the permission throws
 * NotCapable) count as alive, so that nothing of a live process is ever swept away blindly.
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return !(typeof error === "object" && error !== null && "code" in error && error.code === "ESRCH");
  }
}

/**
 * Keeps V8's young generation at its initial size in a long-running proxy. Under load V8 grows
 * it to 32 MB, and the larger it is the longer dead I/O buffers wait for a scavenge: measured
 * (bench/proxy.mjs) peak RSS 137 MB -> 87 MB with 1 MiB bodies at equal CPU. The flag is read
 * each time V8 considers growing, so it works after start-up. Deno manages its own heap.
 */
export function limitYoungGeneration(): void {
  if (runtime !== "node") return;
  void import("node:v8").then((v8) => v8.setFlagsFromString("--semi-space-growth-factor=1"));
}

/** Permissions for {@link scriptCommand}'s child (Deno enforces them; Node has no such model). */
export interface ScriptPermissions {
  read?: boolean;
  env?: boolean;
  /** Directories the child may not read even with `read` (Deno only; paths with a comma are skipped). */
  denyRead?: string[];
}

/**
 * The argv that runs the JavaScript file `script` on this same runtime. On Deno the child gets
 * only the permissions named (no network, writes or subprocesses). On Node the loader flags this
 * process was started with (`--import tsx` when running from source) are passed on.
 */
export function scriptCommand(script: string, args: string[], permissions: ScriptPermissions = {}): { command: string; args: string[] } {
  if (runtime === "deno") {
    const allow = [...(permissions.read === true ? ["--allow-read"] : []), ...(permissions.env === true ? ["--allow-env"] : [])];
    const denied = (permissions.denyRead ?? []).filter((dir) => !dir.includes(","));
    if (denied.length > 0) allow.push(`--deny-read=${denied.join(",")}`);
    return { command: process.execPath, args: ["run", "--quiet", "--no-prompt", ...allow, script, ...args] };
  }
  const loaders: string[] = [];
  const flags = process.execArgv;
  for (let i = 0; i < flags.length; i++) {
    const flag = flags[i] ?? "";
    const joined = /^(--(?:import|loader|experimental-loader))=(.*)$/.exec(flag);
    if (joined !== null) loaders.push(joined[1] ?? "", _absoluteSpecifier(joined[2] ?? ""));
    else if (/^--(import|loader|experimental-loader)$/.test(flag) && flags[i + 1] !== undefined) loaders.push(flag, _absoluteSpecifier(flags[++i] ?? ""));
  }
  return { command: process.execPath, args: [...loaders, script, ...args] };
}

/** A loader specifier as a file path, so it resolves in a child started in another directory. */
function _absoluteSpecifier(specifier: string): string {
  if (/^[a-z][a-z0-9+.-]*:/i.test(specifier) || isAbsolute(specifier)) return specifier;
  try {
    return createRequire(join(process.cwd(), "noop.js")).resolve(specifier);
  } catch {
    return specifier; // the child reports it as Node would
  }
}

/**
 * Why the directory `dir` is not writable (an errno code such as EROFS or EACCES), or undefined
 * when it is. Node asks the kernel (access(2)). Deno's `node:fs` access emulates it from the
 * mode bits, which is wrong for root (who may write anyway) and misses read-only mounts
 * (measured); a probe directory would cost ~0.5 ms per start on this disk. So on Deno: the
 * mode bits for other users, and the mount table for a read-only mount.
 */
export function dirWriteProblem(dir: string): string | undefined {
  try {
    if (runtime === "node" || process.getuid?.() !== 0) accessSync(dir, constants.W_OK | constants.X_OK);
    if (runtime === "deno" && _onReadOnlyMount(realpathSync(dir))) return "EROFS";
    return undefined;
  } catch (error) {
    const code = typeof error === "object" && error !== null && "code" in error ? error.code : undefined;
    return typeof code === "string" ? code : "EACCES";
  }
}

/** True when the innermost mount holding `dir` is read-only (Linux /proc/self/mountinfo; else false). */
function _onReadOnlyMount(dir: string): boolean {
  let table: string;
  try {
    table = readFileSync("/proc/self/mountinfo", "utf8");
  } catch {
    return false;
  }
  let best = -1;
  let readOnly = false;
  for (const line of table.split("\n")) {
    // Fields: id parent major:minor root mount-point options ...; spaces in paths are \040.
    const fields = line.split(" ");
    const point = (fields[4] ?? "").replaceAll("\\040", " ");
    const inside = point !== "" && (dir === point || dir.startsWith(point.endsWith("/") ? point : `${point}/`));
    // Later lines stack on earlier ones at the same point: >= keeps the last.
    if (inside && point.length >= best) {
      best = point.length;
      readOnly = (fields[5] ?? "").split(",").includes("ro");
    }
  }
  return readOnly;
}
