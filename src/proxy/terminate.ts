/**
 * Turning an intercepted tunnel into a byte stream the relay (relay.ts) reads HTTP from: TLS
 * is terminated on the tunnel socket itself with the leaf for the CONNECT host; a plain tunnel
 * is handed over as it is.
 *
 * Both runtimes take this one path. (Deno 2.9 serves node:http over a handed-over TLS socket
 * slowly and closes it after one response, so an earlier design relayed Deno's tunnels to
 * internal loopback servers; the relay reads the socket directly and has neither problem:
 * measured 195 -> 80 us of proxy CPU per request on Deno, bench/proxy.mjs --deno.)
 */
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

/** Receives a decrypted tunnel; `first` holds bytes already read from a plain one. */
export type TunnelStream = (socket: Duplex, session: TunnelSession, first?: Buffer) => void;

/** Turns an accepted, sniffed tunnel into a stream for a {@link TunnelStream}. */
export interface Terminator {
  /** `first` holds the bytes already read; `secure` is true when they start a TLS handshake. */
  accept(socket: net.Socket, first: Buffer, session: TunnelSession, secure: boolean): Promise<void>;
}

/** Builds the terminator: leaves from `ca`, one TLS context per leaf. */
export function createTerminator(ca: CertificateAuthority, stream: TunnelStream): Terminator {
  // Dropped with the leaf when the CA's cache lets it go.
  const contexts = new WeakMap<LeafCertificate, tls.SecureContext>();
  return {
    async accept(socket, first, session, secure) {
      if (!secure) return stream(socket, session, first);
      const leaf = await ca.leafFor(session.target.host);
      let secureContext = contexts.get(leaf);
      if (secureContext === undefined) {
        secureContext = tls.createSecureContext({ cert: leaf.certPem, key: leaf.keyPem });
        contexts.set(leaf, secureContext);
      }
      socket.unshift(first);
      const tlsSocket = new tls.TLSSocket(socket, { isServer: true, secureContext, ALPNProtocols: ["http/1.1"] });
      tlsSocket.on("error", () => tlsSocket.destroy());
      stream(tlsSocket, session);
    },
  };
}
