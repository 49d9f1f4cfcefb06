/**
 * Real clients for the proxy tests: curl and python3 as child processes, and raw sockets
 * (CONNECT, TLS through the tunnel) for the cases that need byte-level control.
 */
import { spawn } from "node:child_process";
import net from "node:net";
import tls from "node:tls";
import type { ProxyFixture } from "./proxy-fixture.ts";

/** Output of a child process. */
export interface RunResult {
  exit: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion, collecting its output. */
export function run(command: string, args: string[], env: Record<string, string> = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => err.push(chunk));
    child.on("error", reject);
    child.on("close", (code) =>
      resolve({ exit: code ?? -1, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }),
    );
  });
}

/** A curl answer: exit code, HTTP status (from `-w`), body. */
export interface CurlResult {
  exit: number;
  status: number;
  body: string;
  stderr: string;
}

/** curl through the fixture's proxy, trusting the child bundle. */
export async function curl(fx: ProxyFixture, url: string, args: string[] = [], proxyUrl = fx.proxyUrl): Promise<CurlResult> {
  const result = await run("curl", ["-sS", "--proxy", proxyUrl, "--cacert", fx.bundlePath, "-w", "\n%{http_code}", ...args, url]);
  const cut = result.stdout.lastIndexOf("\n");
  return { exit: result.exit, status: Number(result.stdout.slice(cut + 1)), body: result.stdout.slice(0, cut), stderr: result.stderr };
}

/** Sends `CONNECT authority` and resolves with the response head and the (still open) socket. */
export function connectRaw(port: number, authority: string, headers: string[] = []): Promise<{ head: string; socket: net.Socket }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.on("error", reject);
    socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n${headers.map((h) => `${h}\r\n`).join("")}\r\n`);
    let buffered = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      buffered = Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf("\r\n\r\n");
      if (end < 0) return;
      socket.off("data", onData);
      socket.pause();
      const rest = buffered.subarray(end + 4);
      if (rest.length > 0) socket.unshift(rest);
      resolve({ head: buffered.subarray(0, end).toString(), socket });
    };
    socket.on("data", onData);
  });
}

/** The `Proxy-Authorization` header for the fixture's token and a username. */
export function proxyAuth(fx: ProxyFixture, username = "_", password = fx.token): string {
  return `Proxy-Authorization: Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
}

/** CONNECT then TLS to `host` through the proxy; `ca` undefined accepts any certificate. */
export async function tlsThroughProxy(fx: ProxyFixture, host: string, port: number, ca?: string): Promise<tls.TLSSocket> {
  const { head, socket } = await connectRaw(fx.port, `${host}:${port}`, [proxyAuth(fx)]);
  if (!head.startsWith("HTTP/1.1 200")) throw new Error(`CONNECT refused: ${head.split("\r\n")[0]}`);
  return new Promise((resolve, reject) => {
    const secure = tls.connect({
      socket,
      servername: host,
      ...(ca === undefined ? { rejectUnauthorized: false } : { ca }),
      ALPNProtocols: ["http/1.1"],
    });
    secure.once("secureConnect", () => resolve(secure));
    secure.once("error", reject);
  });
}

/** Writes a raw request and reads until the peer closes (send `Connection: close`). */
export function exchange(socket: net.Socket, request: string | Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.once("end", () => resolve(Buffer.concat(chunks).toString()));
    socket.once("error", reject);
    socket.resume();
    socket.write(request);
  });
}

/** Reads from `socket` until `marker` has been seen; resolves with everything read. */
export function readUntil(socket: net.Socket, marker: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    const onData = (chunk: Buffer): void => {
      text += chunk.toString("latin1");
      if (!text.includes(marker)) return;
      socket.off("data", onData);
      resolve(text);
    };
    socket.on("data", onData);
    socket.once("error", reject);
    socket.resume();
  });
}
