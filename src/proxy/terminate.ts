/**
 * Handing an intercepted tunnel to an HTTP server, two ways behind one interface:
 *
 * - `in-process` (Node's default): TLS is terminated on the tunnel socket itself and the
 *   decrypted stream goes to the relay (relay.ts) when the handlers have one, else to a
 *   non-listening node:http server (`emit("connection")`). Fastest on Node.
 * - `loopback` (Deno's default, loopback.ts): the tunnel's bytes are relayed to internal servers
 *   listening on 127.0.0.1. Deno 2.9 runs node:http over an emitted socket slowly (+0.5 ms a
 *   request, +1.3 ms with TLS) and closes an emitted TLS connection after one response; its
 *   listening servers take a native path, so the relay costs far less than it saves.
 */
import http from "node:http";
import type net from "node:net";
import tls from "node:tls";
import type { Duplex } from "node:stream";
import type { CertificateAuthority, LeafCertificate } from "./ca.ts";
import type { Target } from "./upstream.ts";

/** The CONNECT a tunnel came from: where its requests go and whose credential opened it. */
export interface TunnelSession {
  target: Target;
  username: string;
}

/** What the proxy does with a request that arrived through a tunnel. */
export interface TunnelHandlers {
  request(req: http.IncomingMessage, res: http.ServerResponse, session: TunnelSession): void;
  upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer, session: TunnelSession): void;
  /**
   * The whole decrypted tunnel as a byte stream (the relay). Terminators that can hand one over
   * (in-process) use it instead of `request`/`upgrade`; `first` holds bytes already read.
   */
  stream?(socket: Duplex, session: TunnelSession, first?: Buffer): void;
}

/** Turns an accepted, sniffed tunnel into HTTP requests for {@link TunnelHandlers}. */
export interface Terminator {
  /** `first` holds the bytes already read; `secure` is true when they start a TLS handshake. */
  accept(socket: net.Socket, first: Buffer, session: TunnelSession, secure: boolean): Promise<void>;
  /** Ports of the internal servers listening on 127.0.0.1 (loopback only), for diagnostics. */
  ports(): number[];
  close(): void;
}

/** How intercepted tunnels are terminated; see the module comment. */
export type Termination = "in-process" | "loopback";

/** Server settings shared by every server of the proxy: no limit on long uploads or streams. */
export const SERVER_OPTIONS = { requestTimeout: 0, keepAliveTimeout: 5_000 } as const;

/** The faster termination for the running runtime. */
export function defaultTermination(): Termination {
  return "Deno" in globalThis ? "loopback" : "in-process";
}

/** The `in-process` terminator: TLS on the tunnel socket, requests parsed by a non-listening server. */
export function createInProcessTerminator(ca: CertificateAuthority, handlers: TunnelHandlers): Terminator {
  const sessions = new WeakMap<object, TunnelSession>();
  // One TLS context per leaf; dropped with the leaf when the CA's cache lets it go.
  const contexts = new WeakMap<LeafCertificate, tls.SecureContext>();
  const inner = serveTunnels(http.createServer(SERVER_OPTIONS), handlers, (socket) => sessions.get(socket));
  return {
    async accept(socket, first, session, secure) {
      if (!secure && handlers.stream !== undefined) return handlers.stream(socket, session, first);
      if (!secure) {
        sessions.set(socket, session);
        inner.emit("connection", socket);
        // The server reads from the socket from now on; hand it the bytes already taken.
        socket.emit("data", first);
        return;
      }
      const leaf = await ca.leafFor(session.target.host);
      let secureContext = contexts.get(leaf);
      if (secureContext === undefined) {
        secureContext = tls.createSecureContext({ cert: leaf.certPem, key: leaf.keyPem });
        contexts.set(leaf, secureContext);
      }
      socket.unshift(first);
      const tlsSocket = new tls.TLSSocket(socket, { isServer: true, secureContext, ALPNProtocols: ["http/1.1"] });
      tlsSocket.on("error", () => tlsSocket.destroy());
      if (handlers.stream !== undefined) return handlers.stream(tlsSocket, session);
      sessions.set(tlsSocket, session);
      inner.emit("connection", tlsSocket);
    },
    ports: () => [],
    close: () => undefined,
  };
}

/** Routes a server's requests and upgrades to `handlers`; a socket without a session is dropped. */
export function serveTunnels<S extends http.Server>(
  server: S,
  handlers: TunnelHandlers,
  lookup: (socket: Duplex) => TunnelSession | undefined,
): S {
  server.on("request", (req: http.IncomingMessage, res: http.ServerResponse) => {
    const session = lookup(req.socket);
    if (session === undefined) return void req.socket.destroy();
    handlers.request(req, res, session);
  });
  server.on("upgrade", (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const session = lookup(socket);
    if (session === undefined) return void socket.destroy();
    handlers.upgrade(req, socket, head, session);
  });
  return server;
}
