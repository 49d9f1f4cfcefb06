/**
 * Turning an intercepted tunnel into a byte stream the relay (relay.ts) reads HTTP from: TLS
 * is terminated on the tunnel socket itself with the leaf for the CONNECT host; a plain tunnel
 * is handed over as it is.
 *
 * Both runtimes take this one path. (Deno 2.9 serves node:http over a handed-over TLS socket
 * slowly and closes it after one response, so an earlier design relayed Deno's tunnels to
 * internal loopback servers; the relay reads the socket directly and has neither problem:
 * measured 195 -> 80 us of proxy CPU per request on Deno, bench/proxy.mjs --deno.)
 *
 * HTTP/2 (issue 16): h2 is offered in ALPN only when the upstream itself answers h2 (probed
 * once per target, h2-upstream.ts), so a stream is never translated between versions: an
 * agent that negotiates h2 is served by h2-server.ts, one that negotiates HTTP/1.1 (or offers
 * h2 to an upstream without it) by the relay, as before.
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

/** HTTP/2 on intercepted tunnels (h2-server.ts). */
export interface H2Tunnels {
  /** True when the tunnel's upstream speaks h2 (a bounded, cached probe). */
  speaksH2(target: Target): Promise<boolean>;
  /** Serves a tunnel whose agent negotiated h2 (the handshake is done). */
  serve(socket: tls.TLSSocket, session: TunnelSession): void;
}

/** How long an agent may take over its TLS handshake once h2 is on offer. */
const HANDSHAKE_MS = 30_000;

/** Builds the terminator: leaves from `ca`, one TLS context per leaf; `h2` offers HTTP/2 where the upstream has it. */
export function createTerminator(ca: CertificateAuthority, stream: TunnelStream, h2?: H2Tunnels): Terminator {
  // Dropped with the leaf when the CA's cache lets it go.
  const contexts = new WeakMap<LeafCertificate, tls.SecureContext>();
  return {
    async accept(socket, first, session, secure) {
      if (!secure) return stream(socket, session, first);
      // The probe runs while the leaf is minted (both cached after the first tunnel).
      const [leaf, upstreamH2] = await Promise.all([ca.leafFor(session.target.host), h2?.speaksH2(session.target) ?? false]);
      let secureContext = contexts.get(leaf);
      if (secureContext === undefined) {
        secureContext = tls.createSecureContext({ cert: leaf.certPem, key: leaf.keyPem });
        contexts.set(leaf, secureContext);
      }
      socket.unshift(first);
      const ALPNProtocols = upstreamH2 ? ["h2", "http/1.1"] : ["http/1.1"];
      const tlsSocket = new tls.TLSSocket(socket, { isServer: true, secureContext, ALPNProtocols });
      tlsSocket.on("error", () => tlsSocket.destroy());
      if (h2 === undefined || !upstreamH2) return stream(tlsSocket, session);
      // Which protocol the agent chose is known once the handshake is done.
      const stalled = (): void => void tlsSocket.destroy();
      tlsSocket.setTimeout(HANDSHAKE_MS, stalled);
      tlsSocket.once("secure", () => {
        tlsSocket.setTimeout(0);
        tlsSocket.off("timeout", stalled);
        if (tlsSocket.alpnProtocol === "h2") h2.serve(tlsSocket, session);
        else stream(tlsSocket, session);
      });
    },
  };
}
