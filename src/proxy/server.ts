/**
 * The forward proxy `authsome run` points its child at: absolute-form HTTP requests and CONNECT
 * tunnels, with TLS interception only for hosts a connected provider declares. Every request is
 * decided by the one core {@link Injector}; this module only moves bytes and headers.
 */
import http from "node:http";
import net from "node:net";
import type { Duplex } from "node:stream";
import { hostPolicy } from "../core/egress.ts";
import { AuthsomeError } from "../core/errors.ts";
import type { Injector } from "../core/injector.ts";
import type { Tripwire } from "../core/tripwire.ts";
import { parseAuthority, parseUrlAuthority } from "./address.ts";
import type { CertificateAuthority } from "./ca.ts";
import {
  type ForwardContext,
  type InjectionEvent,
  ProxyReply,
  forwardRequest,
  forwardWebSocket,
  replyOnSocket,
  sendReply,
} from "./forward.ts";
import { isWebSocketUpgrade } from "./headers.ts";
import { createTerminator } from "./terminate.ts";
import { createH2Proxy } from "./h2-server.ts";
import { SOCKS5_VERSION, SOCKS_REPLY, replyBytes, socksHandshake } from "./socks.ts";
import { blindTunnel, CONNECT_REPLIES, type InterceptContext, interceptTunnel, type TunnelReplies } from "./tunnel.ts";
import { relayTunnel } from "./relay.ts";
import { createUpstream, type Target } from "./upstream.ts";

export { parseResolveSpec } from "../runtime/upstream.ts";
export type { InjectionEvent } from "./forward.ts";

/** Options for {@link createProxy}. */
export interface ProxyOptions {
  /** Decides interception and injection (reads connections live). */
  injector: Injector;
  /** Checks the per-run proxy credential; anything but true answers 407. */
  authenticate(username: string, password: string): boolean;
  /** Mints the leaves for intercepted hosts. */
  ca: CertificateAuthority;
  /** Egress allowlist (`run --deny-unmatched`): 403 for hosts no connected provider declares. */
  denyUnmatched?: boolean | (() => boolean);
  /** Development and test overrides (`AUTHSOME_UPSTREAM_RESOLVE`, `AUTHSOME_UPSTREAM_CA`). */
  upstream?: { resolve?: Map<string, string>; extraCaPem?: string };
  /** Called once per injected request (the audit log); carries no header values. */
  onInjection?(event: InjectionEvent): void;
  /** Called when the upstream refuses an injected request (401/403): see ForwardContext.onRefusal. */
  onRefusal?: ForwardContext["onRefusal"];
  /** Placeholders and secrets bound for a host not theirs are refused (core/tripwire.ts). */
  tripwire?: Tripwire;
  /** Called when the allowlist (`denyUnmatched`) refuses a host (the dashboard's live view of runs). */
  onDenied?(host: string, port: number): void;
}

/** Whether the allowlist is on, and who hears of a refused host. */
type DenyCheck = (() => boolean) & { report?: ((host: string, port: number) => void) | undefined };

/** The allowlist's answer for a target (core/egress.ts decides), reported when it refuses. */
async function _allowlist(injector: Injector, host: string, port: number, deny: DenyCheck) {
  const denied = await hostPolicy(injector, host, port, deny());
  if (denied?.action === "deny") deny.report?.(host, port);
  return denied;
}

/** A running (or ready) proxy. */
export interface Proxy {
  /** Starts listening; default 127.0.0.1 on an ephemeral port. Resolves to the bound address. */
  listen(port?: number, host?: string): Promise<{ host: string; port: number }>;
  /** Stops accepting, closes every client and upstream connection. */
  close(): Promise<void>;
  /** The node:http server underneath (for embedding). */
  readonly server: http.Server;
}

/** No limit on long uploads or streams; idle keep-alive connections close after 5 s. */
const SERVER_OPTIONS = { requestTimeout: 0, keepAliveTimeout: 5_000 } as const;
const PROXY_AUTHENTICATE = ["Proxy-Authenticate", 'Basic realm="authsome"'];
const NOT_AUTHENTICATED = new ProxyReply(407, "proxy authentication required");
/** How long a new connection may stay silent before its first byte (as node:http's headers timeout). */
const FIRST_BYTE_MS = 60_000;

/** Builds the proxy. Nothing listens until {@link Proxy.listen}. */
export function createProxy(options: ProxyOptions): Proxy {
  const upstream = createUpstream(options.upstream);
  const ctx: ForwardContext = { injector: options.injector, upstream, onInjection: options.onInjection, tripwire: options.tripwire, onRefusal: options.onRefusal };
  // Intercepted tunnels go to the raw relay; node:http below serves only the proxy's own
  // requests (CONNECT, absolute-form http://).
  // Tunnels whose agent negotiates h2 (offered only where the upstream speaks it) go to h2-server.ts.
  const h2 = createH2Proxy(ctx, upstream.secureContext);
  const terminator = createTerminator(options.ca, (socket, session, first) => relayTunnel(ctx, socket, session, first), h2);
  const tunnels: InterceptContext = { ca: options.ca, upstream, terminator };
  const denyOption = options.denyUnmatched;
  const deny: DenyCheck = Object.assign(typeof denyOption === "function" ? () => denyOption() : () => denyOption === true, { report: options.onDenied });
  const username = (req: http.IncomingMessage): string | null => _username(req, options.authenticate);

  const outer = http.createServer(SERVER_OPTIONS);
  outer.on("request", (req: http.IncomingMessage, res: http.ServerResponse) => {
    _guard(_onAbsoluteForm(ctx, req, res, username(req), deny), req.socket);
  });
  outer.on("upgrade", (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    _guard(_onAbsoluteUpgrade(ctx, req, socket, head, username(req), deny), socket);
  });
  outer.on("connect", (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    socket.on("error", () => socket.destroy());
    const name = username(req);
    if (name === null) return replyOnSocket(socket, NOT_AUTHENTICATED, PROXY_AUTHENTICATE);
    const target = parseAuthority(req.url ?? "");
    if (target === null) return replyOnSocket(socket, new ProxyReply(400, "CONNECT needs host:port"));
    _guard(_openTunnel(tunnels, options.injector, socket, head, target, name, deny, CONNECT_REPLIES), socket);
  });
  // One port, two protocols: a SOCKS5 greeting (Deno's children, see socks.ts) or HTTP.
  const front = net.createServer({ pauseOnConnect: true }, (socket) => {
    socket.on("error", () => socket.destroy());
    // A connection that never says which protocol it speaks is not kept forever.
    const silent = (): void => void socket.destroy();
    socket.setTimeout(FIRST_BYTE_MS, silent);
    socket.once("data", (first: Buffer) => {
      socket.setTimeout(0);
      socket.off("timeout", silent);
      socket.pause();
      if (first[0] === SOCKS5_VERSION) return _guard(_onSocks(tunnels, options, socket, first, deny), socket);
      socket.unshift(first);
      outer.emit("connection", socket);
      socket.resume();
    });
    socket.resume();
  });
  return _lifecycle(front, outer, () => {
    upstream.close();
    h2.close();
  });
}

/** Handlers answer their own errors; anything that still escapes drops the connection, never the process. */
function _guard(work: Promise<void>, socket: Duplex): void {
  work.catch(() => socket.destroy());
}

async function _onAbsoluteForm(
  ctx: ForwardContext,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  username: string | null,
  deny: DenyCheck,
): Promise<void> {
  if (username === null) return sendReply(res, NOT_AUTHENTICATED, PROXY_AUTHENTICATE);
  try {
    const target = await _absoluteTarget(ctx, req.url ?? "", deny);
    await forwardRequest(ctx, req, res, target, username);
  } catch (error) {
    sendReply(res, error);
  }
}

async function _onAbsoluteUpgrade(
  ctx: ForwardContext,
  req: http.IncomingMessage,
  socket: Duplex,
  head: Buffer,
  username: string | null,
  deny: DenyCheck,
): Promise<void> {
  socket.on("error", () => socket.destroy());
  if (username === null) return replyOnSocket(socket, NOT_AUTHENTICATED, PROXY_AUTHENTICATE);
  try {
    const target = await _absoluteTarget(ctx, req.url ?? "", deny);
    await _upgrade(ctx, req, socket, head, target, username);
  } catch (error) {
    replyOnSocket(socket, error);
  }
}

/** The target of an absolute-form request (`GET http://host:port/path`), after the allowlist. */
async function _absoluteTarget(ctx: ForwardContext, url: string, deny: DenyCheck): Promise<Target> {
  const match = /^http:\/\/([^/?#]*)/i.exec(url);
  const hostPort = match === null ? null : parseUrlAuthority(match[1] ?? "", 80);
  if (hostPort === null) {
    throw new ProxyReply(400, "this is a forward proxy: send absolute http:// URLs, or CONNECT for https");
  }
  const denied = await _allowlist(ctx.injector, hostPort.host, hostPort.port, deny);
  if (denied?.action === "deny") throw new ProxyReply(denied.status, denied.reason);
  return ctx.upstream.target("http", hostPort.host, hostPort.port);
}

/**
 * WebSocket handshakes are passed on. Any other upgrade (`h2c`...) is forwarded as the plain
 * request it also is, without `Upgrade`, so the server answers it normally (RFC 9110 7.8).
 */
async function _upgrade(
  ctx: ForwardContext,
  req: http.IncomingMessage,
  socket: Duplex,
  head: Buffer,
  target: Target,
  username: string,
): Promise<void> {
  if (isWebSocketUpgrade(req.rawHeaders)) return forwardWebSocket(ctx, req, socket, head, target, username);
  socket.on("error", () => socket.destroy());
  // Node hands over the socket with the parser detached, so a body could not be streamed.
  const bodyless = head.length === 0 && req.headers["transfer-encoding"] === undefined;
  if (!bodyless || (req.headers["content-length"] ?? "0") !== "0" || !(socket instanceof net.Socket)) {
    return replyOnSocket(socket, new ProxyReply(501, "only WebSocket upgrades pass through; retry without Upgrade"));
  }
  const res = new http.ServerResponse(req);
  res.shouldKeepAlive = false;
  res.assignSocket(socket);
  res.on("finish", () => socket.end());
  return forwardRequest(ctx, req, res, target, username);
}

/** An authenticated tunnel (CONNECT or SOCKS5): intercepted, denied or blind, per the egress policy. */
async function _openTunnel(
  tunnels: InterceptContext,
  injector: Injector,
  socket: net.Socket,
  head: Buffer,
  target: { host: string; port: number },
  username: string,
  deny: DenyCheck,
  replies: TunnelReplies,
): Promise<void> {
  let intercept: boolean;
  try {
    intercept = await injector.shouldIntercept(target.host, target.port);
  } catch (error) {
    return replies.fail(socket, error);
  }
  if (intercept) return interceptTunnel(tunnels, socket, head, target, username, replies);
  const denied = await _allowlist(injector, target.host, target.port, deny);
  if (denied?.action === "deny") return replies.fail(socket, new ProxyReply(denied.status, denied.reason));
  blindTunnel(tunnels, socket, head, target, username, replies);
}

/** SOCKS5 answers: a reply code instead of an HTTP status line (RFC 1928 section 6). */
const SOCKS_REPLIES: TunnelReplies = {
  established: replyBytes(SOCKS_REPLY.ok),
  fail(socket, error) {
    const status = error instanceof ProxyReply ? error.status : 502;
    if (!socket.destroyed) socket.end(replyBytes(status === 403 ? SOCKS_REPLY.notAllowed : SOCKS_REPLY.hostUnreachable));
  },
};

async function _onSocks(tunnels: InterceptContext, options: ProxyOptions, socket: net.Socket, first: Buffer, deny: DenyCheck): Promise<void> {
  const done = await socksHandshake(socket, first, options.authenticate);
  if (done === null) return;
  await _openTunnel(tunnels, options.injector, socket, done.rest, done.request, done.request.username, deny, SOCKS_REPLIES);
}

/**
 * The username of a valid `Proxy-Authorization: Basic` credential, or null. The password is
 * checked by the run's `authenticate` and never kept.
 */
function _username(req: http.IncomingMessage, authenticate: ProxyOptions["authenticate"]): string | null {
  const header = req.headers["proxy-authorization"];
  if (header === undefined) return null;
  const space = header.indexOf(" ");
  if (space < 0 || header.slice(0, space).toLowerCase() !== "basic") return null;
  const decoded = Buffer.from(header.slice(space + 1).trim(), "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return null;
  const username = decoded.slice(0, colon);
  try {
    return authenticate(username, decoded.slice(colon + 1)) === true ? username : null;
  } catch {
    return null;
  }
}

function _lifecycle(front: net.Server, server: http.Server, onClose: () => void): Proxy {
  const sockets = new Set<net.Socket>();
  front.on("connection", (socket: net.Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  return {
    server,
    listen(port = 0, host = "127.0.0.1") {
      return new Promise((resolve, reject) => {
        front.once("error", reject);
        front.listen(port, host, () => {
          front.off("error", reject);
          const address = front.address();
          if (address === null || typeof address === "string") return reject(new AuthsomeError("internal", "the proxy has no TCP address"));
          resolve({ host: address.address, port: address.port });
        });
      });
    },
    close() {
      return new Promise((resolve) => {
        front.close(() => resolve());
        server.close(() => undefined);
        // Sessions first (HTTP/2 included), then the sockets under them: a node:http2 session
        // ends its own streams rather than finding its socket gone under it.
        onClose();
        for (const socket of sockets) socket.destroy();
      });
    },
  };
}
