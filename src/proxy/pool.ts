/**
 * Raw keep-alive connections to upstreams for the relay (relay.ts): borrowed for one request,
 * given back when its response ended cleanly, reused last-in first-out, closed after a few idle
 * seconds. Each socket gets its listeners once; events go to whoever owns it now, so borrowing
 * costs no listener churn on the hot path.
 */
import net from "node:net";
import tls from "node:tls";
import type { Target } from "./upstream.ts";

/** Who receives a borrowed connection's bytes and its end. */
export interface ConnectionOwner {
  data(chunk: Buffer): void;
  /** The connection closed; `error` when it failed (refused, TLS verification...). */
  closed(error: Error | undefined): void;
}

/** One raw connection to an upstream. */
export interface UpstreamConnection {
  readonly socket: net.Socket;
  readonly target: Target;
  /** True once it carried a complete response: an early close may be a stale keep-alive. */
  reused: boolean;
  owner: ConnectionOwner | null;
  /** When it went idle (for the idle timeout). */
  idleSince: number;
}

/** Under typical server keep-alive timeouts (5 s), so we close first rather than race a close. */
const IDLE_MS = 4_000;
const MAX_IDLE_PER_TARGET = 64;

export interface ConnectionPool {
  acquire(target: Target, owner: ConnectionOwner): UpstreamConnection;
  release(connection: UpstreamConnection): void;
  close(): void;
}

/** `secureContext` carries the trusted roots (undefined: Node's defaults). */
export function createConnectionPool(secureContext: tls.SecureContext | undefined): ConnectionPool {
  const idle = new Map<string, UpstreamConnection[]>();
  // TLS sessions per target: a new connection resumes instead of a full handshake.
  const sessions = new Map<string, Buffer>();
  let sweeper: ReturnType<typeof setInterval> | undefined;

  const drop = (connection: UpstreamConnection): void => {
    const list = idle.get(connection.target.key);
    const at = list?.indexOf(connection) ?? -1;
    if (list !== undefined && at >= 0) list.splice(at, 1);
  };
  const sweep = (): void => {
    const cutoff = Date.now() - IDLE_MS;
    for (const list of idle.values()) {
      while (list.length > 0 && (list[0]?.idleSince ?? 0) < cutoff) list.shift()?.socket.destroy();
    }
  };
  const dial = (target: Target, owner: ConnectionOwner): UpstreamConnection => {
    const socket = _connect(target, secureContext, sessions.get(target.key));
    if (socket instanceof tls.TLSSocket) socket.on("session", (session: Buffer) => sessions.set(target.key, session));
    const connection: UpstreamConnection = { socket, target, reused: false, owner, idleSince: 0 };
    let failure: Error | undefined;
    // Bytes from an idle connection answer nothing we asked: it is unusable.
    socket.on("data", (chunk: Buffer) => (connection.owner === null ? socket.destroy() : connection.owner.data(chunk)));
    socket.on("error", (error: Error) => (failure = error));
    socket.on("close", () => {
      const owner = connection.owner;
      connection.owner = null;
      if (owner === null) drop(connection);
      else owner.closed(failure);
    });
    return connection;
  };

  return {
    acquire(target, owner) {
      const list = idle.get(target.key);
      const cutoff = Date.now() - IDLE_MS;
      for (let connection = list?.pop(); connection !== undefined; connection = list?.pop()) {
        if (connection.idleSince < cutoff || connection.socket.destroyed) {
          connection.socket.destroy();
          continue;
        }
        connection.owner = owner;
        return connection;
      }
      return dial(target, owner);
    },
    release(connection) {
      connection.owner = null;
      connection.reused = true;
      connection.idleSince = Date.now();
      let list = idle.get(connection.target.key);
      if (list === undefined) idle.set(connection.target.key, (list = []));
      if (list.length >= MAX_IDLE_PER_TARGET) return void connection.socket.destroy();
      list.push(connection);
      // Paused by backpressure during its last response: an idle socket must read to see a close.
      connection.socket.resume();
      if (sweeper === undefined) {
        sweeper = setInterval(sweep, 1_000);
        sweeper.unref();
      }
    },
    close() {
      if (sweeper !== undefined) clearInterval(sweeper);
      for (const list of idle.values()) for (const connection of list) connection.socket.destroy();
      idle.clear();
    },
  };
}

function _connect(target: Target, secureContext: tls.SecureContext | undefined, session: Buffer | undefined): net.Socket {
  if (target.scheme === "http") return net.connect({ host: target.address, port: target.port, noDelay: true });
  const socket = tls.connect({
    host: target.address,
    port: target.port,
    ALPNProtocols: ["http/1.1"],
    // SNI and certificate checks use the target name even when a resolve override dials an IP.
    ...(target.servername === undefined ? {} : { servername: target.servername }),
    ...(secureContext === undefined ? {} : { secureContext }),
    ...(session === undefined ? {} : { session }),
  });
  socket.setNoDelay(true);
  return socket;
}
