/**
 * The child of `authsome run`: its environment points every common HTTP stack at the proxy and
 * the trust bundle, gives SDKs placeholder keys so they start, and carries no secret. Signals are
 * forwarded and the child's exit code is returned; a command that cannot start exits 127/126 as
 * in a shell.
 */
import { spawn } from "node:child_process";
import { createHmac } from "node:crypto";
import { accessSync, constants, existsSync, statSync } from "node:fs";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";
import { AuthsomeError } from "../core/errors.ts";
import type { ProviderPlugin } from "../core/plugin.ts";
import { createPlaceholder, hasPlaceholder, type RandomBytes } from "../core/placeholder.ts";

/**
 * The run's placeholders (core/placeholder.ts), provider -> value: shaped like each provider's
 * keys, and drawn from a stream keyed by the run's proxy token, so they are fresh per run and
 * the proxy (tripwires) and the child's environment agree without another message between
 * them, also when the daemon hosts the proxy. HMAC: the placeholder reveals nothing of the token.
 */
export function runPlaceholders(proxyUrl: string, plugins: readonly ProviderPlugin[]): Record<string, string> {
  const token = decodeURIComponent(new URL(proxyUrl).password);
  const out: Record<string, string> = {};
  for (const plugin of plugins) if (hasPlaceholder(plugin)) out[plugin.name] = createPlaceholder(plugin, _keyedStream(token, plugin.name));
  return out;
}

/** Bytes of HMAC-SHA256(token, "authsome placeholder" provider counter), counter 0, 1, ... */
function _keyedStream(token: string, provider: string): RandomBytes {
  let counter = 0;
  return (n) => {
    const out = new Uint8Array(n);
    for (let at = 0; at < n; counter += 1) {
      const block = createHmac("sha256", token).update(`authsome placeholder\u0000${provider}\u0000${counter}`).digest();
      out.set(block.subarray(0, Math.min(block.length, n - at)), at);
      at += block.length;
    }
    return out;
  };
}

/** Variables never passed to the child (they unlock the vault). */
const WITHHELD = ["AUTHSOME_MASTER_KEY", "AUTHSOME_PASSPHRASE"];

/**
 * The preload that routes a Node child's fetch and http(s) through the proxy. It ships as plain
 * JavaScript in src/intercept/; this module runs from src/proxy/ (Deno) or a dist/ bundle (Node).
 */
export function preloadUrl(): string {
  for (const candidate of ["../intercept/preload.mjs", "../src/intercept/preload.mjs", "../../src/intercept/preload.mjs"]) {
    const url = new URL(candidate, import.meta.url);
    if (existsSync(fileURLToPath(url))) return url.href;
  }
  throw new AuthsomeError("internal", "the Node preload (src/intercept/preload.mjs) is missing from this installation");
}

/** `deno` itself: the one client that gets the SOCKS5 proxy (see {@link buildChildEnv}). */
const DENO = /(^|[/\\])deno(\.exe)?$/;

/**
 * Builds the child's environment. `command` is what `run` starts: when it is `deno`, ALL_PROXY
 * names the proxy's SOCKS5 side too. Deno reads ALL_PROXY before HTTPS_PROXY and repeats an
 * http:// proxy's credential inside CONNECT tunnels; over SOCKS5 it stays in the handshake
 * (src/proxy/socks.ts). Not for every child: Python's httpx (the OpenAI and Anthropic SDKs)
 * builds a transport for every proxy variable at start and fails on a SOCKS one without the
 * optional socksio package (`Unknown scheme` in httpx 0.23).
 */
export function buildChildEnv(
  base: Record<string, string | undefined>,
  session: { proxyUrl: string; bundlePath: string; caPath: string },
  providers: ProviderPlugin[],
  command = "",
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(base)) if (v !== undefined && !WITHHELD.includes(k)) env[k] = v;
  for (const name of ["HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"]) env[name] = session.proxyUrl;
  for (const name of ["ALL_PROXY", "all_proxy"]) {
    if (DENO.test(command)) env[name] = session.proxyUrl.replace(/^http:/, "socks5h:");
    else delete env[name];
  }
  const noProxy = "localhost,127.0.0.1,::1";
  env["NO_PROXY"] = env["no_proxy"] = noProxy;
  // grpc-js reads its roots from GRPC_DEFAULT_SSL_ROOTS_FILE_PATH when set (it replaces the system roots).
  // The AWS CLI and boto3 (botocore) read AWS_CA_BUNDLE, not SSL_CERT_FILE (they ship certifi's roots).
  for (const name of ["SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "GIT_SSL_CAINFO", "DENO_CERT", "GRPC_DEFAULT_SSL_ROOTS_FILE_PATH", "AWS_CA_BUNDLE"]) env[name] = session.bundlePath;
  env["NODE_EXTRA_CA_CERTS"] = session.caPath;
  const preload = `--import ${preloadUrl()}`;
  env["NODE_OPTIONS"] = env["NODE_OPTIONS"] === undefined ? preload : `${env["NODE_OPTIONS"]} ${preload}`;
  const placeholders = runPlaceholders(session.proxyUrl, providers);
  for (const plugin of providers) for (const name of Object.keys(plugin.env ?? {})) env[name] = placeholders[plugin.name] ?? "";
  return env;
}

const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
const SIGNAL_NUMBERS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };

/**
 * Why the command could not start, with the exit code a shell would give: 127 when it is not
 * found, 126 when it is found but cannot be executed (no x bit, a directory).
 */
function startError(command: string, error: NodeJS.ErrnoException): AuthsomeError {
  const name = JSON.stringify(command.slice(0, 80));
  if (error.code === "ENOENT") return new AuthsomeError("command_not_found", `command not found: ${name}`, { cause: error });
  if (error.code === "EACCES" || error.code === "EISDIR" || error.code === "ENOEXEC") {
    return new AuthsomeError("command_not_executable", `cannot execute ${name}: ${error.code === "EACCES" ? "permission denied or not a file" : error.code}`, { cause: error });
  }
  return new AuthsomeError("internal", `cannot start ${name}: ${error.code ?? "error"}`, { cause: error });
}

/**
 * Checks, before any proxy starts, that `command` would start: found on PATH (or at its path)
 * and executable. Throws the same 127/126 errors as a failed spawn, so `run -- typo` says so at
 * once instead of after the proxy's banner. Windows (PATHEXT) is left to spawn.
 */
export function checkCommand(command: string, path: string | undefined): void {
  if (process.platform === "win32") return;
  const candidates = command.includes("/") ? [command] : (path ?? "").split(delimiter).filter(Boolean).map((dir) => join(dir, command));
  const found = candidates.find((file) => existsSync(file));
  if (found === undefined) throw startError(command, Object.assign(new Error("not found"), { code: "ENOENT" }));
  const executable = candidates.find((file) => _isExecutableFile(file));
  if (executable === undefined) throw startError(command, Object.assign(new Error("not executable"), { code: statSync(found).isDirectory() ? "EISDIR" : "EACCES" }));
}

function _isExecutableFile(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** Runs the command with stdio inherited; resolves to its exit code (128+n for a signal). */
export function runChild(command: string, args: string[], env: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: "inherit" });
    const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
    const handlers = SIGNALS.map((signal) => [signal, forward(signal)] as const);
    for (const [signal, handler] of handlers) process.on(signal, handler);
    const cleanup = () => {
      for (const [signal, handler] of handlers) process.off(signal, handler);
    };
    child.on("error", (error: NodeJS.ErrnoException) => {
      cleanup();
      reject(startError(command, error));
    });
    child.on("exit", (code, signal) => {
      cleanup();
      resolve(code ?? 128 + (SIGNAL_NUMBERS[signal ?? ""] ?? 1));
    });
  });
}

/** For tests: the file path of the preload. */
export function preloadPath(): string {
  return fileURLToPath(preloadUrl());
}
