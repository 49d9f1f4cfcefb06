/**
 * The agent side of HTTP/2 on intercepted tunnels (issue 16): node:http2 (on Node and Deno; no
 * framing or HPACK of our own) serves each tunnel whose agent negotiated h2, and every stream
 * goes to h2-stream.ts, which forwards it through the egress pipeline on the upstream's shared
 * session (h2-upstream.ts). Server push is off on both sides.
 */
import http2 from "node:http2";
import type tls from "node:tls";
import { forwardStream } from "./h2-stream.ts";
import { createH2Upstream, SESSION_MEMORY_MB, SESSION_WINDOW, STREAM_WINDOW } from "./h2-upstream.ts";
import type { ForwardContext } from "./request.ts";
import type { H2Tunnels, TunnelSession } from "./terminate.ts";
import { getEnv, runtime } from "../runtime/index.ts";

/** Concurrent streams an agent may open on one tunnel (RFC 9113 recommends at least 100). */
const MAX_STREAMS = 1000;
/**
 * An agent session with no stream for this long is closed (GOAWAY, so nothing in flight is
 * lost). Longer than the HTTP/1.1 relay's 5 s: gRPC channels keep one connection for their
 * calls, and an idle session holds only the agent's socket (upstream sessions idle out apart).
 */
const IDLE_MS = 30_000;

/**
 * Whether tunnels offer h2 here: on Node unless `AUTHSOME_HTTP2=0`; on Deno only with
 * `AUTHSOME_HTTP2=1`, because Deno 2.9's node:http2 can abort the whole process (an nghttp2
 * assertion, `stream->closed_next == NULL`) when a client closes its session after large or many
 * streams; a plain Deno http2 server does the same. Without h2 every client falls back to
 * HTTP/1.1 (an h2-only one, gRPC, cannot connect).
 */
export function http2Offered(): boolean {
  const setting = getEnv("AUTHSOME_HTTP2");
  return runtime === "deno" ? setting === "1" : setting !== "0";
}

/** HTTP/2 for a proxy's tunnels; {@link close} ends its upstream sessions. */
export interface H2Proxy extends H2Tunnels {
  close(): void;
}

/** Builds the HTTP/2 side of a proxy over its forwarding context (`secureContext`: upstream trust roots). */
export function createH2Proxy(ctx: ForwardContext, secureContext: tls.SecureContext | undefined): H2Proxy {
  const pool = createH2Upstream(secureContext);
  const offered = http2Offered();
  const server = http2.createServer({ maxSessionMemory: SESSION_MEMORY_MB, settings: { enablePush: false, maxConcurrentStreams: MAX_STREAMS, initialWindowSize: STREAM_WINDOW } });
  const tunnels = new WeakMap<http2.Http2Session, TunnelSession>();
  const open = new Set<http2.ServerHttp2Session>();
  // The session node:http2 builds for a socket is announced synchronously inside emit("connection").
  let arriving: TunnelSession | null = null;
  server.on("session", (session: http2.ServerHttp2Session) => {
    if (arriving === null) return void session.destroy();
    tunnels.set(session, arriving);
    session.once("connect", () => session.setLocalWindowSize(SESSION_WINDOW));
    open.add(session);
    session.once("close", () => open.delete(session));
    session.on("error", () => session.destroy());
    _closeWhenIdle(session);
  });
  server.on("stream", (stream: http2.ServerHttp2Stream, _headers: http2.IncomingHttpHeaders, _flags: number, rawHeaders: string[]) => {
    const tunnel = tunnels.get(stream.session as http2.Http2Session);
    if (tunnel === undefined) return void stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
    forwardStream(ctx, pool, stream, rawHeaders, tunnel);
  });
  return {
    speaksH2: (target) => (offered ? pool.speaksH2(target) : Promise.resolve(false)),
    serve(socket, session) {
      // A server-side TLSSocket made outside a tls.Server never clears this flag, and
      // node:http2 would wait for a `secureConnect` that only client sockets emit.
      Object.assign(socket, { secureConnecting: false });
      arriving = session;
      try {
        server.emit("connection", socket);
      } finally {
        arriving = null;
      }
    },
    close() {
      for (const session of open) session.destroy();
      pool.close();
    },
  };
}

/** Closes an agent session (gracefully) once it has had no open stream for {@link IDLE_MS}. */
function _closeWhenIdle(session: http2.ServerHttp2Session): void {
  let open = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => open === 0 && session.close(), IDLE_MS);
    timer.unref();
  };
  session.on("stream", (stream: http2.ServerHttp2Stream) => {
    open += 1;
    clearTimeout(timer);
    stream.once("close", () => (open -= 1) === 0 && arm());
  });
  session.once("close", () => clearTimeout(timer));
  arm();
}
