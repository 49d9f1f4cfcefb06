/**
 * The `loopback` terminator (see terminate.ts): intercepted tunnels are relayed to internal
 * servers listening on 127.0.0.1, one HTTPS server per intercepted host (so the leaf is always
 * the CONNECT host's, with or without SNI) and one plain HTTP server.
 *
 * Anyone on the machine can connect to those ports, so a connection is served only once it is
 * paired with one of our relays: same source port, both ends seen, each pairing used once. Any
 * other connection (including one reusing a port a closed relay had) has no session and is
 * dropped at its first request.
 */
import http from "node:http";
import https from "node:https";
import net from "node:net";
import type { Duplex } from "node:stream";
import { AuthsomeError } from "../core/errors.ts";
import type { CertificateAuthority, LeafCertificate } from "./ca.ts";
import { SERVER_OPTIONS, serveTunnels, type Terminator, type TunnelHandlers, type TunnelSession } from "./terminate.ts";

interface Listening<S extends http.Server = http.Server> {
  server: S;
  port: number;
  leaf?: LeafCertificate;
}

/** Most per-host internal HTTPS servers kept open; the least recently used is closed first. */
const MAX_HOST_SERVERS = 64;
const LOOPBACK = "127.0.0.1";

type Listen = <S extends http.Server>(server: S, event: string, leaf?: LeafCertificate) => Promise<Listening<S>>;

/** Builds the `loopback` terminator. */
export function createLoopbackTerminator(ca: CertificateAuthority, handlers: TunnelHandlers): Terminator {
  const pairing = _createPairing();
  const ports = new Set<number>();
  const listen: Listen = async (server, event, leaf) => {
    server.on(event, (socket: net.Socket) => pairing.accepted(socket));
    const listening = await _listen(serveTunnels(server, handlers, pairing.lookup), leaf);
    ports.add(listening.port);
    server.once("close", () => ports.delete(listening.port));
    return listening;
  };
  const hosts = _createHostServers(ca, listen);
  let plain: Promise<Listening> | undefined;
  return {
    async accept(socket, first, session, secure) {
      plain ??= listen(http.createServer(SERVER_OPTIONS), "connection");
      const { port } = await (secure ? hosts.serverFor(session.target.host) : plain);
      const relay = net.connect({ port, host: LOOPBACK, noDelay: true });
      relay.once("connect", () => {
        pairing.relayed(relay, session);
        relay.write(first);
        socket.pipe(relay).pipe(socket);
      });
      relay.on("error", () => socket.destroy());
      socket.on("close", () => relay.destroy());
    },
    ports: () => [...ports],
    close() {
      const all: Promise<Listening>[] = hosts.clear();
      if (plain !== undefined) all.push(plain);
      for (const entry of all) void entry.then(({ server }) => _closeNow(server));
    },
  };
}

/** One internal HTTPS server per intercepted host, least recently used closed beyond the bound. */
function _createHostServers(ca: CertificateAuthority, listen: Listen): {
  serverFor(host: string): Promise<Listening<https.Server>>;
  clear(): Promise<Listening<https.Server>>[];
} {
  const servers = new Map<string, Promise<Listening<https.Server>>>();
  return {
    async serverFor(host) {
      const leaf = await ca.leafFor(host);
      let entry = servers.get(host);
      if (entry === undefined) {
        const options = { ...SERVER_OPTIONS, cert: leaf.certPem, key: leaf.keyPem, ALPNProtocols: ["http/1.1"] };
        entry = listen(https.createServer(options), "secureConnection", leaf);
        servers.set(host, entry);
        if (servers.size > MAX_HOST_SERVERS) _evictOldest(servers);
      }
      const listening = await entry;
      servers.delete(host);
      servers.set(host, entry); // most recently used last
      if (listening.leaf !== leaf) {
        listening.server.setSecureContext({ cert: leaf.certPem, key: leaf.keyPem }); // a renewed leaf
        listening.leaf = leaf;
      }
      return listening;
    },
    clear() {
      const all = [...servers.values()];
      servers.clear();
      return all;
    },
  };
}

/**
 * Pairs relay connections (our client side) with the sockets the internal servers accept, by
 * the relay's local port. Either side may be seen first; a pairing is made once, then forgotten.
 */
function _createPairing(): {
  relayed(relay: net.Socket, session: TunnelSession): void;
  accepted(socket: net.Socket): void;
  lookup(socket: Duplex): TunnelSession | undefined;
} {
  const sessions = new WeakMap<object, TunnelSession>();
  const waitingRelays = new Map<number, TunnelSession>();
  const waitingSockets = new Map<number, net.Socket>();
  return {
    relayed(relay, session) {
      const port = relay.localPort;
      if (port === undefined || relay.localAddress !== LOOPBACK) return void relay.destroy();
      const socket = waitingSockets.get(port);
      if (socket !== undefined) {
        waitingSockets.delete(port);
        return void sessions.set(socket, session);
      }
      waitingRelays.set(port, session);
      relay.once("close", () => waitingRelays.get(port) === session && waitingRelays.delete(port));
    },
    accepted(socket) {
      const port = socket.remotePort;
      if (port === undefined || socket.remoteAddress !== LOOPBACK) return;
      const session = waitingRelays.get(port);
      if (session !== undefined) {
        waitingRelays.delete(port);
        return void sessions.set(socket, session);
      }
      waitingSockets.set(port, socket);
      socket.once("close", () => waitingSockets.get(port) === socket && waitingSockets.delete(port));
    },
    lookup: (socket) => sessions.get(socket),
  };
}

function _listen<S extends http.Server>(server: S, leaf?: LeafCertificate): Promise<Listening<S>> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, LOOPBACK, () => {
      const address = server.address();
      if (address === null || typeof address === "string") {
        return reject(new AuthsomeError("internal", "an internal proxy server has no port"));
      }
      resolve(leaf === undefined ? { server, port: address.port } : { server, port: address.port, leaf });
    });
  });
}

function _evictOldest(servers: Map<string, Promise<Listening<https.Server>>>): void {
  const oldest = servers.keys().next();
  if (oldest.done === true) return;
  const entry = servers.get(oldest.value);
  servers.delete(oldest.value);
  // Tunnels already relayed keep their connections; the server only stops accepting.
  void entry?.then(({ server }) => server.close());
}

function _closeNow(server: http.Server): void {
  server.close();
  server.closeAllConnections();
}
