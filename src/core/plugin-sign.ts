/**
 * A TypeScript plugin's `sign(request, credential)` hook, run per request outside this process.
 * The hook holds the credential, so what matters is that it cannot send it anywhere itself:
 *
 * - It runs in one child process of the same runtime (started at the first signed request,
 *   shared by every hook of this process), fed JSON lines on stdin, answering on stdout.
 * - Deno: the child runs with no permissions at all (no network, files, env, subprocesses, FFI),
 *   its code given as a `data:` URL so not even its own file is readable. Node: the child runs
 *   under the permission model (no file reads or writes, subprocesses, workers or addons);
 *   Node 20's model has no network switch, so there the network is kept out only by the vm
 *   context below, which is not a security boundary against code written to escape it
 *   (docs/security.md says so).
 * - Inside the child each hook is compiled from its source text in a fresh vm context holding
 *   only Web Crypto, TextEncoder/TextDecoder, URL, URLSearchParams, btoa and atob: no fetch, no
 *   process, no require or import.
 * - Each call is bounded ({@link SIGN_TIMEOUT_MS}); past it the child is killed, the request
 *   answered 502, and the next signed request starts a fresh child.
 * - What comes back is parsed: header names valid and not the transport's, no control characters.
 */
import { Buffer } from "node:buffer";
import * as v from "valibot";
import { AuthsomeError } from "./errors.ts";
import type { RequestSigner, SignInput, SignedParts } from "./injector.ts";
import type { SignSource } from "./plugin.ts";
import type { CredentialValues } from "./rules.ts";
import { MAX_SIGNED_BODY } from "./sign.ts";

/** Time one hook call may take, in milliseconds. */
export const SIGN_TIMEOUT_MS = 2000;
const MAX_ANSWER = 256 * 1024;

// The child: reads {id, source, request, credential} lines, answers {id, ok, value|error} lines.
const CHILD = `import process from "node:process";
import vm from "node:vm";
const globals = { crypto: globalThis.crypto, TextEncoder, TextDecoder, URL, URLSearchParams, btoa, atob };
const hooks = new Map();
function hookOf(source) {
  let hook = hooks.get(source);
  if (hook !== undefined) return hook;
  const context = vm.createContext({ ...globals }, { codeGeneration: { strings: false, wasm: false } });
  let fn;
  try { fn = vm.runInContext("(" + source + ")", context, { timeout: 1000 }); }
  catch { fn = vm.runInContext("({" + source + "})", context, { timeout: 1000 }).sign; }
  if (typeof fn !== "function") throw new TypeError("the sign hook is not a function");
  hooks.set(source, fn);
  return fn;
}
async function answer(line) {
  const call = JSON.parse(line);
  try {
    const request = { ...call.request, body: call.request.body === null ? null : Uint8Array.from(atob(call.request.body), (c) => c.charCodeAt(0)) };
    const value = await hookOf(call.source)(request, call.credential);
    process.stdout.write(JSON.stringify({ id: call.id, ok: true, value }) + "\\n");
  } catch (error) {
    const message = String(error && error.message !== undefined ? error.message : error).slice(0, 300);
    process.stdout.write(JSON.stringify({ id: call.id, ok: false, error: message }) + "\\n");
  }
}
let pending = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => {
  pending += chunk;
  for (let at = pending.indexOf("\\n"); at >= 0; at = pending.indexOf("\\n")) {
    const line = pending.slice(0, at);
    pending = pending.slice(at + 1);
    void answer(line);
  }
});
`;

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const TRANSPORT_HEADERS = new Set(["host", "content-length", "transfer-encoding", "connection", "upgrade", "te", "trailer", "keep-alive"]);
const Value = v.pipe(v.string(), v.regex(/^[^\r\n\0]*$/, "must not contain control characters"));
const ResultSchema = v.strictObject({
  headers: v.optional(v.record(v.pipe(v.string(), v.regex(HEADER_NAME, "invalid header name"), v.check((n) => !TRANSPORT_HEADERS.has(n.toLowerCase()) && !/^(proxy-|x-authsome-)/i.test(n), "reserved header name")), Value)),
  query: v.optional(v.record(v.pipe(v.string(), v.nonEmpty()), Value)),
});
const AnswerSchema = v.object({ id: v.number(), ok: v.boolean(), value: v.optional(v.unknown()), error: v.optional(v.string()) });

/** Builds the signer of a plugin's hook for one connection's credential fields. */
export function createHookSigner(provider: string, sign: SignSource, fields: CredentialValues): { signer: RequestSigner; secrets: string[] } {
  const credential: Record<string, string> = {};
  for (const [name, value] of Object.entries(fields)) if (typeof value === "string") credential[name] = value;
  const signer: RequestSigner = {
    drops: new Set(),
    plan({ body }) {
      if (!body.present || (body.length !== null ? body.length <= MAX_SIGNED_BODY : body.readsUnknownLength)) return body.present ? "read" : "stream";
      return { status: body.length === null ? 411 : 413, reason: `the ${provider} sign hook needs the whole body and this one ${body.length === null ? "has no Content-Length" : "is too large"}` };
    },
    sign: (request) => _call(provider, sign.source, request, credential),
  };
  const secrets = ["api_key", "password", "access_token", "secret_access_key", "session_token"].map((name) => credential[name]).filter((value): value is string => value !== undefined && value !== "");
  return { signer, secrets };
}

async function _call(provider: string, source: string, request: SignInput, credential: Record<string, string>): Promise<SignedParts> {
  const headers: Record<string, string> = {};
  for (let i = 0; i < request.headers.length; i += 2) {
    const name = (request.headers[i] ?? "").toLowerCase();
    headers[name] = name in headers ? `${headers[name]}, ${request.headers[i + 1] ?? ""}` : (request.headers[i + 1] ?? "");
  }
  headers.host ??= request.url.host;
  const body = request.body === null ? null : Buffer.from(request.body.buffer, request.body.byteOffset, request.body.byteLength).toString("base64");
  let value: unknown;
  try {
    value = await _sandbox().call({ source, request: { method: request.method, url: request.url.href, headers, body }, credential }, provider);
  } catch (error) {
    throw _redacted(error, credential);
  }
  const parsed = v.safeParse(ResultSchema, value);
  if (!parsed.success) {
    const issue = parsed.issues[0];
    const where = issue.path?.map((item) => String(item.key)).join(".") ?? "";
    throw new AuthsomeError("sign_failed", `the ${provider} sign hook returned an invalid result${where === "" ? "" : ` at "${where}"`}: ${issue.message}`);
  }
  return { headers: _lower(parsed.output.headers ?? {}), query: parsed.output.query ?? {} };
}

/** The error with every credential value in its message replaced (a hook may throw one). */
function _redacted(error: unknown, credential: Record<string, string>): unknown {
  if (!(error instanceof AuthsomeError)) return error;
  let message = error.message;
  for (const value of Object.values(credential)) if (value.length >= 4) message = message.replaceAll(value, "[redacted]");
  return message === error.message ? error : new AuthsomeError(error.code, message);
}

function _lower(record: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(record)) out[name.toLowerCase()] = value;
  return out;
}

let shared: SignSandbox | null = null;

function _sandbox(): SignSandbox {
  return (shared ??= new SignSandbox());
}

/** Stops the shared sign child, if one runs (tests, and a proxy that closes). */
export function stopSignSandbox(): void {
  shared?.stop();
  shared = null;
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: unknown): void;
  timer: ReturnType<typeof setTimeout>;
}

/** The one sign child of this process and its calls in flight. */
class SignSandbox {
  private child: import("node:child_process").ChildProcess | null = null;
  private starting: Promise<import("node:child_process").ChildProcess> | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private buffer = "";

  async call(message: Record<string, unknown>, provider: string): Promise<unknown> {
    const child = await this._start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const error = new AuthsomeError("sign_failed", `the ${provider} sign hook did not answer within ${SIGN_TIMEOUT_MS / 1000} s; its sandbox was stopped`);
        // Only the child this call went to is stopped (a fresh one may have replaced it since).
        if (this.child === child) return this._fail(error);
        this.pending.delete(id);
        reject(error);
      }, SIGN_TIMEOUT_MS);
      this.pending.set(id, { resolve, reject: (error) => reject(error instanceof AuthsomeError ? error : new AuthsomeError("sign_failed", `the ${provider} sign hook failed`, { cause: error })), timer });
      child.stdin?.write(`${JSON.stringify({ id, ...message })}\n`);
    });
  }

  stop(): void {
    this._fail(new AuthsomeError("sign_failed", "the sign sandbox was stopped"));
  }

  private _start(): Promise<import("node:child_process").ChildProcess> {
    if (this.child !== null) return Promise.resolve(this.child);
    return (this.starting ??= (async () => {
      const { spawn } = await import("node:child_process");
      const { command, args } = _childCommand();
      const child = spawn(command, args, { env: { NO_COLOR: "1", ...(process.env.PATH === undefined ? {} : { PATH: process.env.PATH }) }, stdio: ["pipe", "pipe", "ignore"] });
      // A child killed at its time limit closes its pipes: a write then fails with EPIPE, which
      // must not become an unhandled error in the proxy (the exit handler fails the calls).
      child.stdin?.on("error", () => undefined);
      child.stdout?.on("error", () => undefined);
      child.stdout?.setEncoding("utf8");
      child.stdout?.on("data", (chunk: string) => this._data(chunk));
      child.on("exit", () => this.child === child && this._fail(new AuthsomeError("sign_failed", "the sign sandbox exited")));
      child.on("error", (error) => this._fail(new AuthsomeError("sign_failed", "cannot start the sign sandbox", { cause: error })));
      // The proxy's process must not be kept alive by its sandbox.
      child.unref();
      (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
      (child.stdout as unknown as { unref?: () => void } | null)?.unref?.();
      this.child = child;
      this.starting = null;
      return child;
    })());
  }

  private _data(chunk: string): void {
    this.buffer += chunk;
    if (this.buffer.length > MAX_ANSWER) return this._fail(new AuthsomeError("sign_failed", "a sign hook answered more than 256 KiB"));
    for (let at = this.buffer.indexOf("\n"); at >= 0; at = this.buffer.indexOf("\n")) {
      const line = this.buffer.slice(0, at);
      this.buffer = this.buffer.slice(at + 1);
      let json: unknown;
      try {
        json = JSON.parse(line);
      } catch {
        continue;
      }
      const parsed = v.safeParse(AnswerSchema, json);
      const call = parsed.success ? this.pending.get(parsed.output.id) : undefined;
      if (!parsed.success || call === undefined) continue;
      this.pending.delete(parsed.output.id);
      clearTimeout(call.timer);
      if (parsed.output.ok) call.resolve(parsed.output.value);
      else call.reject(new AuthsomeError("sign_failed", `a sign hook threw: ${parsed.output.error ?? "unknown error"}`));
    }
  }

  /** Kills the child and fails every call in flight; the next call starts a new child. */
  private _fail(error: AuthsomeError): void {
    const child = this.child;
    this.child = null;
    this.buffer = "";
    child?.kill("SIGKILL");
    for (const call of this.pending.values()) {
      clearTimeout(call.timer);
      call.reject(error);
    }
    this.pending.clear();
  }
}

const DENO_DENY = ["read", "write", "net", "env", "run", "ffi", "sys", "import"].map((name) => `--deny-${name}`);

/** The child's command line: no permissions on Deno, the permission model on Node. */
function _childCommand(): { command: string; args: string[] } {
  const deno = (globalThis as { Deno?: unknown }).Deno !== undefined;
  // Every permission denied by name: Deno's node:child_process adds -A to a `deno run` that
  // names none (measured on Deno 2.9: read, net, run... all granted), as if it were node.
  if (deno) return { command: process.execPath, args: ["run", "--quiet", "--no-prompt", ...DENO_DENY, `data:text/javascript;base64,${Buffer.from(CHILD).toString("base64")}`] };
  const flag = process.allowedNodeEnvironmentFlags.has("--permission") ? "--permission" : "--experimental-permission";
  return { command: process.execPath, args: [flag, "--no-warnings", "--input-type=module", "-e", CHILD] };
}
