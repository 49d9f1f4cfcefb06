/**
 * What happens after an authenticated CONNECT: either a blind TCP tunnel (the agent talks to the
 * real server, certificate and all), or interception: the tunnel is accepted, its first bytes
 * tell TLS from plain HTTP, and a {@link Terminator} turns it into requests for the proxy.
 */
import type net from "node:net";
import type { CertificateAuthority } from "./ca.ts";
import { ProxyReply, replyOnSocket } from "./forward.ts";
import type { Terminator } from "./terminate.ts";
import { describeUpstreamError, type Target, type Upstream } from "./upstream.ts";

/** Shared state for intercepted tunnels. */
export interface InterceptContext {
  ca: CertificateAuthority;
  upstream: Upstream;
  terminator: Terminator;
}

const ESTABLISHED = "HTTP/1.1 200 Connection Established\r\n\r\n";
/** First byte of a TLS record carrying a handshake (RFC 8446 section 5.1, ContentType 22). */
const TLS_HANDSHAKE = 0x16;
/** How long an intercepted tunnel may stay silent before its first byte. */
const FIRST_BYTE_TIMEOUT = 60_000;

/** Connects `socket` to `target` untouched; 502 when the target cannot be reached. */
export function blindTunnel(socket: net.Socket, head: Buffer, target: Target, upstream: Upstream): void {
  const up = upstream.connect(target);
  let connected = false;
  up.once("connect", () => {
    connected = true;
    socket.write(ESTABLISHED);
    if (head.length > 0) up.write(head);
    socket.pipe(up).pipe(socket);
  });
  up.on("error", (error) => {
    if (connected) socket.destroy();
    else replyOnSocket(socket, new ProxyReply(502, describeUpstreamError(error, target)));
  });
  // Normal ends travel through pipe(); only an abrupt close on one side tears down the other.
  socket.on("error", () => up.destroy());
  socket.on("close", () => up.destroy());
}

/**
 * Accepts the CONNECT and reads the first bytes: a TLS handshake is terminated with a leaf for
 * the CONNECT host; anything else is plain HTTP inside the tunnel (undici tunnels http:// so).
 */
export async function interceptTunnel(
  ctx: InterceptContext,
  socket: net.Socket,
  head: Buffer,
  hostPort: { host: string; port: number },
  username: string,
): Promise<void> {
  // Nagle would hold back the second of two small writes (response head, then body) for the
  // peer's delayed ACK: 40 ms on Deno, whose TLS layer writes through this socket.
  socket.setNoDelay(true);
  // Minted while the client prepares its ClientHello; cached for every later tunnel.
  ctx.ca.leafFor(hostPort.host).catch(() => undefined);
  socket.write(ESTABLISHED);
  const first = head.length > 0 ? head : await _firstChunk(socket);
  if (first === null) return void socket.destroy();
  const secure = first[0] === TLS_HANDSHAKE;
  const target = ctx.upstream.target(secure ? "https" : "http", hostPort.host, hostPort.port);
  try {
    await ctx.terminator.accept(socket, first, { target, username }, secure);
  } catch {
    // No leaf, no interception: the agent sees a failed handshake, never an unintercepted tunnel.
    socket.destroy();
  }
}

/** The first bytes the client sends after the 200, leaving the socket paused; null if it leaves. */
function _firstChunk(socket: net.Socket): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const done = (chunk: Buffer | null): void => {
      socket.off("data", onData);
      socket.off("end", onEnd);
      socket.off("close", onEnd);
      socket.off("timeout", onEnd);
      socket.setTimeout(0);
      resolve(chunk);
    };
    const onData = (chunk: Buffer): void => {
      socket.pause();
      done(chunk);
    };
    const onEnd = (): void => done(null);
    socket.on("data", onData);
    socket.once("end", onEnd);
    socket.once("close", onEnd);
    socket.once("timeout", onEnd);
    socket.setTimeout(FIRST_BYTE_TIMEOUT);
  });
}
