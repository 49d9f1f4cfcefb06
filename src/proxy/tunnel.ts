/**
 * What happens after an authenticated CONNECT (or SOCKS5 CONNECT): either a blind TCP tunnel
 * (the agent talks to the real server, certificate and all), or interception: the tunnel is accepted, its first bytes
 * tell TLS from plain HTTP, and a {@link Terminator} turns it into requests for the proxy.
 */
import type net from "node:net";
import type { Duplex } from "node:stream";
import type { CertificateAuthority } from "./ca.ts";
import { ProxyReply, replyOnSocket } from "./request.ts";
import type { Terminator } from "./terminate.ts";
import { describeUpstreamError, type Upstream } from "./upstream.ts";

/** Shared state for intercepted tunnels. */
export interface InterceptContext {
  ca: CertificateAuthority;
  upstream: Upstream;
  terminator: Terminator;
}

/** How a tunnel is answered: an HTTP CONNECT's 200 and error lines, or SOCKS5 reply codes. */
export interface TunnelReplies {
  established: string | Buffer;
  fail(socket: Duplex, error: unknown): void;
}

/** The HTTP CONNECT answers. */
export const CONNECT_REPLIES: TunnelReplies = {
  established: "HTTP/1.1 200 Connection Established\r\n\r\n",
  fail: (socket, error) => replyOnSocket(socket, error),
};

/** First byte of a TLS record carrying a handshake (RFC 8446 section 5.1, ContentType 22). */
const TLS_HANDSHAKE = 0x16;
/** How long an intercepted tunnel may stay silent before its first byte. */
const FIRST_BYTE_TIMEOUT = 60_000;
/** An HTTP/1 request line's start: a method token, then a space (or the chunk ends first). */
const HTTP_START = /^[A-Z][A-Z-]{0,15}(?: |$)/;

/**
 * Connects `socket` to the host untouched (its own certificate, no interception); 502 when it
 * cannot be reached. One look at the client's first bytes: plain HTTP (clients tunnel http://
 * through CONNECT too: undici, Node's preload) goes to the relay instead, which forwards it
 * without authsome's headers (`Proxy-*`, `X-Authsome-*`) and injects nothing, since no
 * provider declares the host. TLS and anything else (a server that speaks first included)
 * flows as bytes.
 */
export function blindTunnel(ctx: InterceptContext, socket: net.Socket, head: Buffer, hostPort: { host: string; port: number }, username: string, replies: TunnelReplies): void {
  const target = ctx.upstream.target("https", hostPort.host, hostPort.port);
  const up = ctx.upstream.connect(target);
  let connected = false;
  let upSpoke = false;
  up.once("connect", () => {
    connected = true;
    socket.write(replies.established);
    up.once("data", () => (upSpoke = true));
    up.pipe(socket);
    const sniff = (first: Buffer): void => {
      socket.pause();
      if (upSpoke || first[0] === TLS_HANDSHAKE || !HTTP_START.test(first.toString("latin1", 0, Math.min(first.length, 17)))) {
        up.write(first);
        socket.pipe(up);
        socket.resume();
        return;
      }
      up.unpipe(socket);
      up.destroy();
      const plain = ctx.upstream.target("http", hostPort.host, hostPort.port);
      void ctx.terminator.accept(socket, first, { target: plain, username }, false).catch(() => socket.destroy());
    };
    if (head.length > 0) return sniff(head);
    socket.once("data", sniff);
    // A socket handed over paused (SOCKS handshake) flows again only once it has a reader.
    socket.resume();
  });
  up.on("error", (error) => {
    if (connected) socket.destroy();
    else replies.fail(socket, new ProxyReply(502, describeUpstreamError(error, target)));
  });
  // Normal ends travel through pipe(); only an abrupt close on one side tears down the other.
  socket.on("error", () => up.destroy());
  socket.on("close", () => up.destroy());
}

/**
 * Accepts the tunnel and reads the first bytes: a TLS handshake is terminated with a leaf for
 * the CONNECT host; anything else is plain HTTP inside the tunnel (undici tunnels http:// so).
 */
export async function interceptTunnel(
  ctx: InterceptContext,
  socket: net.Socket,
  head: Buffer,
  hostPort: { host: string; port: number },
  username: string,
  replies: TunnelReplies = CONNECT_REPLIES,
): Promise<void> {
  // Nagle would hold back the second of two small writes (response head, then body) for the
  // peer's delayed ACK: 40 ms on Deno, whose TLS layer writes through this socket.
  socket.setNoDelay(true);
  // Minted while the client prepares its ClientHello; cached for every later tunnel.
  ctx.ca.leafFor(hostPort.host).catch(() => undefined);
  socket.write(replies.established);
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
    socket.resume();
    socket.once("end", onEnd);
    socket.once("close", onEnd);
    socket.once("timeout", onEnd);
    socket.setTimeout(FIRST_BYTE_TIMEOUT);
  });
}
