/**
 * The HTTP/2 side towards real servers (issue 16): which upstreams speak h2 (their ALPN answer,
 * probed once per target and cached), and one reused node:http2 session per upstream origin,
 * closed after a few idle seconds. A session the server sends GOAWAY on takes no new streams
 * (the ones it accepted finish on it); the next request opens a fresh session.
 */
import http2 from "node:http2";
import tls from "node:tls";
import type { Target } from "./upstream.ts";

/** How long the ALPN probe may take; a slower upstream is spoken to in HTTP/1.1 this time. */
const PROBE_MS = 3_000;
/** How long a probe's answer is kept: a server rarely changes its protocols. */
const PROBE_TTL_MS = 10 * 60_000;
/** A failed probe (unreachable, bad certificate) is retried soon: the relay reports the failure. */
const FAILED_TTL_MS = 5_000;
const MAX_PROBES = 1024;
/**
 * What one session may hold in node:http2's buffers before it answers ENHANCE_YOUR_CALM
 * (default 10 MB): with a stream window of 64 KiB and 16 KiB of write buffer per stream, 100
 * busy streams alone come close to the default.
 */
export const SESSION_MEMORY_MB = 64;
/**
 * Flow-control windows the proxy grants its peers (RFC 9113 section 6.9), on the sessions to
 * upstreams and (for uploads) to agents: 1 MiB per stream and 16 MiB per session instead of
 * HTTP/2's 64 KiB for both, so a 1 MiB answer is not paced by a WINDOW_UPDATE round trip every
 * 64 KiB through a second hop. The session window bounds what one session can make the proxy
 * hold when the other side reads slowly (backpressure stops the reads, not the window).
 */
export const STREAM_WINDOW = 1 << 20;
export const SESSION_WINDOW = 16 << 20;

/** A session with no stream for this long is closed (under typical server idle timeouts). */
const IDLE_MS = 4_000;

/** The HTTP/2 upstream pool of one proxy. */
export interface H2Upstream {
  /** True when `target` (https) answers ALPN h2; probed at most once per {@link PROBE_TTL_MS}. */
  speaksH2(target: Target): Promise<boolean>;
  /** A usable session to `target`: the live one, else a new one. */
  session(target: Target): http2.ClientHttp2Session;
  /** Marks the start and end of a stream on a session (for the idle timeout). */
  opened(session: http2.ClientHttp2Session): void;
  closed(session: http2.ClientHttp2Session): void;
  close(): void;
}

interface Probe {
  answer: Promise<boolean>;
  until: number;
}

interface Entry {
  session: http2.ClientHttp2Session;
  streams: number;
  idle: ReturnType<typeof setTimeout> | undefined;
}

/** `secureContext` carries the trusted roots (undefined: the runtime's defaults). */
export function createH2Upstream(secureContext: tls.SecureContext | undefined): H2Upstream {
  const probes = new Map<string, Probe>();
  const live = new Map<string, Entry>();
  const entries = new WeakMap<http2.ClientHttp2Session, Entry>();

  const forget = (key: string, entry: Entry): void => {
    if (live.get(key) === entry) live.delete(key);
  };
  const adopt = (target: Target, socket: tls.TLSSocket | undefined): Entry => {
    const session = http2.connect(target.origin, {
      maxSessionMemory: SESSION_MEMORY_MB,
      // Server push would hand the agent responses it never asked for, uninspected.
      settings: { enablePush: false, initialWindowSize: STREAM_WINDOW },
      createConnection: () => socket ?? _dial(target, secureContext, ["h2"]),
    });
    // The session window can only be raised by a WINDOW_UPDATE, once the session is up.
    session.once("connect", () => session.setLocalWindowSize(SESSION_WINDOW));
    const entry: Entry = { session, streams: 0, idle: undefined };
    entries.set(session, entry);
    live.set(target.key, entry);
    // Streams report their own errors; a session error only ends the session.
    session.on("error", () => forget(target.key, entry));
    session.on("goaway", () => forget(target.key, entry));
    session.on("close", () => {
      forget(target.key, entry);
      clearTimeout(entry.idle);
    });
    _idleLater(entry);
    return entry;
  };

  return {
    speaksH2(target) {
      if (target.scheme !== "https") return Promise.resolve(false);
      const now = Date.now();
      const known = probes.get(target.key);
      if (known !== undefined && known.until > now) return known.answer;
      if (probes.size >= MAX_PROBES) probes.delete(probes.keys().next().value ?? "");
      const probe: Probe = { answer: Promise.resolve(false), until: now + PROBE_TTL_MS };
      probe.answer = _probe(target, secureContext).then((socket) => {
        if (socket === null) {
          probe.until = Date.now() + FAILED_TTL_MS;
          return false;
        }
        if (socket.alpnProtocol !== "h2") return void socket.destroy(), false;
        // The probe's connection becomes the first session: no handshake is wasted.
        if (live.has(target.key)) socket.destroy();
        else adopt(target, socket);
        return true;
      });
      probes.set(target.key, probe);
      return probe.answer;
    },
    session(target) {
      const entry = live.get(target.key);
      if (entry !== undefined && !entry.session.closed && !entry.session.destroyed) return entry.session;
      return adopt(target, undefined).session;
    },
    opened(session) {
      const entry = entries.get(session);
      if (entry === undefined) return;
      entry.streams += 1;
      clearTimeout(entry.idle);
      entry.idle = undefined;
    },
    closed(session) {
      const entry = entries.get(session);
      if (entry === undefined) return;
      entry.streams -= 1;
      if (entry.streams === 0) _idleLater(entry);
    },
    close() {
      for (const entry of live.values()) entry.session.destroy();
      live.clear();
      probes.clear();
    },
  };
}

/** Closes the session once it has carried no stream for {@link IDLE_MS}. */
function _idleLater(entry: Entry): void {
  clearTimeout(entry.idle);
  entry.idle = setTimeout(() => entry.streams === 0 && entry.session.close(), IDLE_MS);
  entry.idle.unref();
}

/** A TLS connection offering `protocols`, checked against the target name (not the dialled address). */
function _dial(target: Target, secureContext: tls.SecureContext | undefined, protocols: string[]): tls.TLSSocket {
  const socket = tls.connect({
    host: target.address,
    port: target.port,
    ALPNProtocols: protocols,
    ...(target.servername === undefined ? {} : { servername: target.servername }),
    ...(secureContext === undefined ? {} : { secureContext }),
  });
  socket.setNoDelay(true);
  return socket;
}

/** Connects offering h2 and HTTP/1.1: the verified socket, or null (failure or deadline). */
function _probe(target: Target, secureContext: tls.SecureContext | undefined): Promise<tls.TLSSocket | null> {
  return new Promise((resolve) => {
    const socket = _dial(target, secureContext, ["h2", "http/1.1"]);
    const fail = (): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(null);
    };
    const timer = setTimeout(fail, PROBE_MS);
    socket.once("error", fail);
    socket.once("secureConnect", () => {
      clearTimeout(timer);
      socket.off("error", fail);
      resolve(socket);
    });
  });
}
