/**
 * The server side of SOCKS5 (RFC 1928, username/password per RFC 1929), CONNECT only.
 *
 * Why a forward proxy speaks it: Deno's fetch repeats the proxy URL's `Proxy-Authorization`
 * inside every CONNECT tunnel of an `http://` proxy (ext/fetch/proxy.rs adds it whenever the
 * proxy target is HTTP, whatever the request's scheme), so through a blind tunnel the run's
 * credential would reach the upstream. With a SOCKS proxy the credential only travels in the
 * SOCKS handshake. Deno reads `ALL_PROXY` before `HTTPS_PROXY`; other clients prefer the
 * scheme's own variable, so `ALL_PROXY=socks5h://...` reaches Deno alone (see child.ts).
 *
 * Also used, unauthenticated, as the loopback relay through which Deno's fetch reaches an
 * `AUTHSOME_UPSTREAM_RESOLVE` address (src/runtime/upstream.ts).
 */
import net from "node:net";
import type { Duplex } from "node:stream";
import { isValidHost, normalizeHost } from "../core/host.ts";

/** First byte of a SOCKS5 greeting: tells a SOCKS client from an HTTP one on the same port. */
export const SOCKS5_VERSION = 0x05;

/** A SOCKS5 CONNECT request, after authentication. */
export interface SocksConnect {
  host: string;
  port: number;
  /** The RFC 1929 username (`_` when the client sent none). */
  username: string;
}

/** RFC 1928 section 6 reply codes used here. */
export const SOCKS_REPLY = { ok: 0x00, failure: 0x01, notAllowed: 0x02, hostUnreachable: 0x04, refused: 0x05, commandNotSupported: 0x07, addressNotSupported: 0x08 } as const;

/** How long the handshake may take before the connection is dropped. */
const HANDSHAKE_MS = 10_000;

/**
 * Runs the handshake on `socket` (whose first bytes are `first`). `authenticate` checks an RFC
 * 1929 username and password; without it no authentication is offered. Resolves to the request
 * and the bytes already read past it, or null when the client failed (the socket is then closed).
 */
export async function socksHandshake(socket: Duplex, first: Buffer, authenticate?: (username: string, password: string) => boolean): Promise<{ request: SocksConnect; rest: Buffer } | null> {
  const reader = new ByteReader(socket, first);
  const timer = setTimeout(() => socket.destroy(), HANDSHAKE_MS);
  try {
    const [version, count = 0] = await reader.take(2);
    const methods = await reader.take(count);
    const wanted = authenticate === undefined ? 0x00 : 0x02;
    if (version !== SOCKS5_VERSION || !methods.includes(wanted)) return _refuse(socket, Buffer.from([SOCKS5_VERSION, 0xff]));
    socket.write(Buffer.from([SOCKS5_VERSION, wanted]));
    let username = "_";
    if (authenticate !== undefined) {
      const [, userLength = 0] = await reader.take(2);
      username = (await reader.take(userLength)).toString("utf8");
      const [passwordLength = 0] = await reader.take(1);
      const password = (await reader.take(passwordLength)).toString("utf8");
      let ok = false;
      try {
        ok = authenticate(username, password) === true;
      } catch {
        ok = false;
      }
      if (!ok) return _refuse(socket, Buffer.from([0x01, 0x01]));
      socket.write(Buffer.from([0x01, 0x00]));
    }
    const request = await _readConnect(reader, socket);
    if (request === null) return null;
    return { request: { ...request, username: username === "" ? "_" : username }, rest: reader.release() };
  } catch {
    socket.destroy();
    return null;
  } finally {
    clearTimeout(timer);
  }
}

async function _readConnect(reader: ByteReader, socket: Duplex): Promise<{ host: string; port: number } | null> {
  const [version, command, , type] = await reader.take(4);
  if (version !== SOCKS5_VERSION) return _refuse(socket, replyBytes(SOCKS_REPLY.failure));
  let raw: string;
  if (type === 0x01) raw = [...(await reader.take(4))].join(".");
  else if (type === 0x04) raw = (await reader.take(16)).toString("hex").replace(/(.{4})(?!$)/g, "$1:");
  else if (type === 0x03) raw = (await reader.take((await reader.take(1))[0] ?? 0)).toString("latin1");
  else return _refuse(socket, replyBytes(SOCKS_REPLY.addressNotSupported));
  const portBytes = await reader.take(2);
  if (command !== 0x01) return _refuse(socket, replyBytes(SOCKS_REPLY.commandNotSupported));
  const host = normalizeHost(raw);
  const port = portBytes.readUInt16BE(0);
  if (port === 0 || !/^[\x21-\x7e]+$/.test(raw) || !isValidHost(host)) return _refuse(socket, replyBytes(SOCKS_REPLY.addressNotSupported));
  return { host: net.isIP(host) === 6 ? _compactV6(host) : host, port };
}

/** The reply to a CONNECT (bound address 0.0.0.0:0: clients do not use it for CONNECT). */
export function replyBytes(code: number): Buffer {
  return Buffer.from([SOCKS5_VERSION, code, 0x00, 0x01, 0, 0, 0, 0, 0, 0]);
}

function _refuse(socket: Duplex, bytes: Buffer): null {
  if (!socket.destroyed) socket.end(bytes);
  return null;
}

function _compactV6(host: string): string {
  // `new URL` gives the canonical (compressed, lower-case) spelling of an IPv6 address.
  return new URL(`http://[${host}]/`).hostname.slice(1, -1);
}

/** Exact-length reads over a socket's data events; the rest is handed back, the socket paused. */
class ByteReader {
  private buffer: Buffer;
  private wake: (() => void) | null = null;
  private ended = false;
  private readonly socket: Duplex;
  private readonly onData = (chunk: Buffer): void => {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    this.wake?.();
  };
  private readonly onEnd = (): void => {
    this.ended = true;
    this.wake?.();
  };

  constructor(socket: Duplex, first: Buffer) {
    this.socket = socket;
    this.buffer = first;
    socket.on("data", this.onData);
    socket.once("end", this.onEnd);
    socket.once("close", this.onEnd);
    socket.resume();
  }

  async take(n: number): Promise<Buffer> {
    while (this.buffer.length < n) {
      if (this.ended) throw new Error("socks: the client left during the handshake");
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = null;
    }
    const out = this.buffer.subarray(0, n);
    this.buffer = this.buffer.subarray(n);
    return out;
  }

  release(): Buffer {
    this.socket.pause();
    this.socket.off("data", this.onData);
    this.socket.off("end", this.onEnd);
    this.socket.off("close", this.onEnd);
    return this.buffer;
  }
}

/**
 * A loopback SOCKS5 relay (no authentication) that connects each CONNECT to the address
 * `resolve` gives its `host:port`, and refuses any other: how Deno's fetch is pointed at an
 * `AUTHSOME_UPSTREAM_RESOLVE` address with the URL's name kept for SNI and certificate checks.
 */
export async function startResolveRelay(resolve: ReadonlyMap<string, string>): Promise<{ url: string; close(): void }> {
  const server = net.createServer((socket) => {
    socket.on("error", () => socket.destroy());
    void socksHandshake(socket, Buffer.alloc(0)).then((done) => {
      if (done === null) return;
      const address = resolve.get(`${done.request.host}:${done.request.port}`);
      if (address === undefined) return void socket.end(replyBytes(SOCKS_REPLY.notAllowed));
      const up = net.connect(done.request.port, address);
      let connected = false;
      up.once("connect", () => {
        connected = true;
        socket.write(replyBytes(SOCKS_REPLY.ok));
        if (done.rest.length > 0) up.write(done.rest);
        socket.pipe(up).pipe(socket);
        socket.resume();
      });
      up.on("error", () => (connected ? socket.destroy() : socket.end(replyBytes(SOCKS_REPLY.hostUnreachable))));
      socket.on("close", () => up.destroy());
    });
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolveListen());
  });
  // The relay must not keep a program alive that is otherwise done.
  server.unref();
  const address = server.address() as net.AddressInfo;
  return { url: `socks5h://127.0.0.1:${address.port}`, close: () => void server.close() };
}
