/**
 * One HTTP/2 stream of an intercepted tunnel, forwarded as one stream on the upstream's shared
 * session (h2-upstream.ts). The request goes through the same egress pipeline as an HTTP/1.1
 * request (request.ts `prepareRequest`): `:path` is the request target, `:authority` must name
 * the CONNECT target (else 421, RFC 9110 section 15.5.20), and the pipeline's header rules
 * apply to the other fields. Bodies, responses and trailers are piped with backpressure, so
 * HTTP/2 flow control reaches from the agent to the server; resets travel per stream.
 */
import http2 from "node:http2";
import { Transform } from "node:stream";
import { tripwireDenial } from "../core/egress.ts";
import { scrubberFor, type Scrubber } from "../core/scrub.ts";
import type { BodyScan } from "../core/tripwire.ts";
import { parseUrlAuthority } from "./address.ts";
import { buildResponseHeaders } from "./headers.ts";
import type { H2Upstream } from "./h2-upstream.ts";
import { type ForwardContext, type Prepared, ProxyReply, prepareRequest, replyParts, reportInjection } from "./request.ts";
import { isEncoded, scrubRequestHeaders } from "./scrub-body.ts";
import { scrubbingTransform } from "./scrub-stream.ts";
import type { TunnelSession } from "./terminate.ts";
import { describeUpstreamError, type Target } from "./upstream.ts";

const { NGHTTP2_CANCEL, NGHTTP2_FLAG_END_STREAM, NGHTTP2_INTERNAL_ERROR, NGHTTP2_REFUSED_STREAM } = http2.constants;

/** Never sent on HTTP/2 (RFC 9113 section 8.2.2; node:http2 refuses them too); `host` becomes `:authority`. */
const CONNECTION_SPECIFIC = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "host"]);

/** The agent's request: pseudo-header fields apart, the other fields flat as received. */
interface H2Request {
  method: string;
  path: string;
  authority: string | undefined;
  headers: string[];
  /** The agent sent `te: trailers` (gRPC does): the one TE value HTTP/2 allows, passed on. */
  trailers: boolean;
}

/** Forwards one agent stream; answers its own errors on the stream. */
export function forwardStream(ctx: ForwardContext, pool: H2Upstream, stream: http2.ServerHttp2Stream, rawHeaders: readonly string[], tunnel: TunnelSession): void {
  stream.on("error", () => undefined);
  let request: H2Request;
  try {
    request = _readRequest(rawHeaders);
    _checkAuthority(request, tunnel.target);
  } catch (error) {
    return replyOnStream(stream, error);
  }
  const hasBody = !stream.endAfterHeaders;
  prepareRequest(ctx, request.path, request.headers, tunnel.target, tunnel.username, false, request.method, hasBody)
    .then((prepared) => {
      if (stream.closed || stream.destroyed) return;
      new Exchange(ctx, pool, stream, tunnel.target, request, prepared, hasBody).send(true);
    })
    .catch((error: unknown) => replyOnStream(stream, error));
}

/** Writes the proxy's error answer on a stream (or resets it when a response already started). */
export function replyOnStream(stream: http2.ServerHttp2Stream, error: unknown): void {
  if (stream.closed || stream.destroyed) return;
  if (stream.headersSent) return void stream.close(NGHTTP2_INTERNAL_ERROR);
  const { status, message } = replyParts(error);
  const text = `authsome proxy: ${message}\n`;
  stream.respond({ ":status": status, "content-type": "text/plain; charset=utf-8", "content-length": Buffer.byteLength(text) });
  stream.end(text);
}

/** One request and its answer, between an agent stream and an upstream stream. */
class Exchange {
  private up: http2.ClientHttp2Stream | null = null;
  private reported = false;
  /** Body bytes went upstream: a refused stream can no longer be sent again. */
  private bodyStarted = false;
  private readonly scrub: Scrubber | null;

  private readonly ctx: ForwardContext;
  private readonly pool: H2Upstream;
  private readonly stream: http2.ServerHttp2Stream;
  private readonly target: Target;
  private readonly request: H2Request;
  private readonly prepared: Prepared;
  private readonly hasBody: boolean;

  constructor(ctx: ForwardContext, pool: H2Upstream, stream: http2.ServerHttp2Stream, target: Target, request: H2Request, prepared: Prepared, hasBody: boolean) {
    this.ctx = ctx;
    this.pool = pool;
    this.stream = stream;
    this.target = target;
    this.request = request;
    this.prepared = prepared;
    this.hasBody = hasBody;
    this.scrub = scrubberFor(prepared.decision);
    stream.on("close", () => {
      const up = this.up;
      // The agent reset or left before the answer ended: the upstream stream goes too (other
      // streams are untouched). One that ended is left to close by itself.
      if (up === null || up.closed || up.destroyed || (stream.rstCode === 0 && up.readableEnded)) return;
      up.close(stream.rstCode === 0 ? NGHTTP2_CANCEL : stream.rstCode);
    });
  }

  /** Opens the upstream stream; `mayRetry`: once more on a fresh session if this one refuses it. */
  send(mayRetry: boolean): void {
    let up: http2.ClientHttp2Stream;
    let session: http2.ClientHttp2Session;
    try {
      session = this.pool.session(this.target);
      up = session.request(this._upstreamHeaders(), { endStream: !this.hasBody });
    } catch (error) {
      // A session that just received GOAWAY takes no new stream: the next one is fresh.
      if (mayRetry && _code(error) === "ERR_HTTP2_GOAWAY_SESSION") return this.send(false);
      return this._fail(new ProxyReply(502, _code(error).startsWith("ERR_HTTP2_INVALID") || _code(error) === "ERR_INVALID_CHAR" ? "an injected header is not a valid HTTP/2 field" : describeUpstreamError(error, this.target)));
    }
    this.up = up;
    this.pool.opened(session);
    up.on("error", () => undefined);
    up.on("close", () => {
      this.pool.closed(session);
      this._upstreamClosed(up, mayRetry);
    });
    up.on("headers", (headers) => this._interim(headers));
    up.on("response", (headers, flags, raw?: string[]) => this._response(up, headers, flags, raw));
    if (this.hasBody && !this.bodyStarted) this._pipeBody(up);
  }

  private _upstreamHeaders(): http2.OutgoingHttpHeaders {
    const { method, trailers } = this.request;
    const out: http2.OutgoingHttpHeaders = { ":method": method, ":scheme": "https", ":authority": this.target.authority, ":path": this.prepared.path };
    const headers = this.scrub === null ? this.prepared.headers : _askIdentity(scrubRequestHeaders(this.prepared.headers));
    _addFields(out, headers, CONNECTION_SPECIFIC);
    if (trailers) out["te"] = "trailers";
    return out;
  }

  private _pipeBody(up: http2.ClientHttp2Stream): void {
    this.bodyStarted = true;
    const scan = this.prepared.bodyScan;
    if (scan === null) return void this.stream.pipe(up);
    this.stream.pipe(_scanned(scan, () => this._tripped(scan))).pipe(up);
  }

  /** A body carried a needle: the upstream stream is reset (the rest never leaves), the agent gets 403. */
  private _tripped(scan: BodyScan): void {
    this.stream.unpipe();
    this.up?.close(NGHTTP2_CANCEL);
    const tripwire = this.ctx.tripwire;
    const denial = tripwire === undefined ? null : tripwireDenial(tripwire, scan, this.target.host, this.request.method);
    replyOnStream(this.stream, new ProxyReply(403, denial?.action === "deny" ? denial.reason : "blocked by a tripwire"));
  }

  /** 1xx answers (100-continue, 103) pass on as they come. */
  private _interim(headers: http2.IncomingHttpHeaders & http2.IncomingHttpStatusHeader): void {
    const status = Number(headers[":status"]);
    if (status >= 200 || this.stream.headersSent || this.stream.closed) return;
    const raw = _flatten(headers);
    this.stream.additionalHeaders(_toHeaders(status, this._clean(raw)));
  }

  private _response(up: http2.ClientHttp2Stream, headers: http2.IncomingHttpHeaders & http2.IncomingHttpStatusHeader, flags: number, raw: string[] | undefined): void {
    const status = Number(headers[":status"]);
    const fields = raw ?? _flatten(headers);
    const ended = (flags & NGHTTP2_FLAG_END_STREAM) !== 0;
    const scrub = this.scrub;
    if (scrub !== null && !ended && (isEncoded(fields) || _grpcEncoded(fields))) {
      up.close(NGHTTP2_CANCEL);
      this._report(502);
      return this._fail(new ProxyReply(502, "the upstream compressed a response that must be scrubbed, although identity was asked for"));
    }
    this._report(status);
    if (this.stream.closed || this.stream.destroyed) return;
    this.stream.respond(_toHeaders(status, this._clean(fields)), ended ? { endStream: true } : { waitForTrailers: true });
    if (ended) return;
    let trailers: http2.IncomingHttpHeaders | null = null;
    up.on("trailers", (t) => (trailers = t));
    this.stream.on("wantTrailers", () => {
      // No trailers from upstream: node:http2 ends the stream with an empty DATA frame instead.
      const out: http2.OutgoingHttpHeaders = {};
      if (trailers !== null) _addFields(out, this._clean(_flatten(trailers)), null);
      this.stream.sendTrailers(out);
    });
    if (scrub === null) return void up.pipe(this.stream);
    const body = up.pipe(scrubbingTransform(scrub));
    body.on("error", () => this.stream.close(NGHTTP2_INTERNAL_ERROR));
    body.pipe(this.stream);
  }

  /** Response fields for the agent: pseudo-headers apart, authsome's and hop-by-hop ones dropped, values scrubbed. */
  private _clean(raw: readonly string[]): string[] {
    const plain: string[] = [];
    for (let i = 0; i < raw.length; i += 2) if (!(raw[i] ?? "").startsWith(":")) plain.push(raw[i] ?? "", raw[i + 1] ?? "");
    const kept = buildResponseHeaders(plain);
    const scrub = this.scrub;
    if (scrub === null) return kept;
    for (let i = 1; i < kept.length; i += 2) kept[i] = scrub.header(kept[i - 1] ?? "", kept[i] ?? "");
    return kept;
  }

  private _upstreamClosed(up: http2.ClientHttp2Stream, mayRetry: boolean): void {
    if (this.up !== up) return;
    const stream = this.stream;
    if (stream.closed || stream.destroyed) return;
    const code = up.rstCode ?? 0;
    if (stream.headersSent) {
      // Reset by the server (or its session went away) mid-answer: the agent's stream alike.
      if (code !== 0 || !up.readableEnded) stream.close(code === 0 ? NGHTTP2_INTERNAL_ERROR : code);
      return;
    }
    // Refused (a GOAWAY below this stream's id): never processed, safe to send again once.
    if (code === NGHTTP2_REFUSED_STREAM && mayRetry && !this.bodyStarted) return this.send(false);
    this._report(502);
    // A reset is passed on with its code (REFUSED_STREAM tells the agent it may retry).
    if (code !== 0) return void stream.close(code);
    this._fail(new ProxyReply(502, `${this.target.host}:${this.target.port} closed the stream without answering`));
  }

  private _report(status: number): void {
    if (this.reported) return;
    this.reported = true;
    reportInjection(this.ctx, this.prepared.decision, this.target, this.request.method, status);
  }

  private _fail(error: unknown): void {
    if (!(error instanceof ProxyReply) || error.status === 502) this._report(502);
    replyOnStream(this.stream, error);
  }
}

/**
 * Pseudo-header fields apart from the rest (RFC 9113 section 8.3.1). A `CONNECT` (plain or
 * extended) inside a tunnel is refused, as on HTTP/1.1.
 */
function _readRequest(raw: readonly string[]): H2Request {
  let method = "";
  let path = "";
  let authority: string | undefined;
  let host: string | undefined;
  let trailers = false;
  const headers: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] ?? "";
    const value = raw[i + 1] ?? "";
    if (name === ":method") method = value;
    else if (name === ":path") path = value;
    else if (name === ":authority") authority = value;
    else if (name.startsWith(":")) continue;
    else {
      if (name === "host") host = value;
      if (name === "te") trailers = value.split(",").some((t) => t.trim().toLowerCase() === "trailers");
      headers.push(name, value);
    }
  }
  if (method === "CONNECT") throw new ProxyReply(405, "CONNECT inside a tunnel is not supported");
  if (method === "" || path === "") throw new ProxyReply(400, "an HTTP/2 request needs :method and :path");
  if (host !== undefined && authority !== undefined && host !== authority) throw new ProxyReply(400, "the Host field and :authority differ");
  return { method, path, authority: authority ?? host, headers, trailers };
}

/**
 * `:authority` (or `Host`) must name the CONNECT target, compared in the one host normal form
 * (address.ts): a request for another host on this connection (HTTP/2 connection reuse) is
 * answered 421, so the client opens a connection of its own for that host.
 */
function _checkAuthority(request: H2Request, target: Target): void {
  if (request.authority === undefined) return;
  const named = parseUrlAuthority(request.authority, target.scheme === "https" ? 443 : 80);
  if (named !== null && named.host === target.host && named.port === target.port) return;
  throw new ProxyReply(421, `this connection is for ${target.authority}; a request for another host (:authority) needs its own connection`);
}

/** Adds flat fields to an HTTP/2 header object (lower-case names, repeated ones as arrays), skipping `drop`. */
function _addFields(out: http2.OutgoingHttpHeaders, fields: readonly string[], drop: ReadonlySet<string> | null): void {
  for (let i = 0; i < fields.length; i += 2) {
    const name = (fields[i] ?? "").toLowerCase();
    if (drop?.has(name) === true) continue;
    const value = fields[i + 1] ?? "";
    const prior = out[name];
    out[name] = prior === undefined ? value : Array.isArray(prior) ? [...prior, value] : [String(prior), value];
  }
}

function _toHeaders(status: number, fields: readonly string[]): http2.OutgoingHttpHeaders {
  const out: http2.OutgoingHttpHeaders = { ":status": status };
  _addFields(out, fields, CONNECTION_SPECIFIC);
  return out;
}

/** A header object back to flat fields (node:http2 joins nothing but `cookie`; arrays are repeats). */
function _flatten(headers: http2.IncomingHttpHeaders): string[] {
  const out: string[] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) out.push(name, v);
    else out.push(name, String(value));
  }
  return out;
}

/** gRPC's own message compression (`grpc-accept-encoding`) asked off too: compressed messages could not be scrubbed. */
function _askIdentity(headers: string[]): string[] {
  for (let i = 0; i < headers.length; i += 2) if ((headers[i] ?? "").toLowerCase() === "grpc-accept-encoding") headers[i + 1] = "identity";
  return headers;
}

function _grpcEncoded(fields: readonly string[]): boolean {
  for (let i = 0; i < fields.length; i += 2) {
    if ((fields[i] ?? "").toLowerCase() === "grpc-encoding" && (fields[i + 1] ?? "").trim().toLowerCase() !== "identity") return true;
  }
  return false;
}

/**
 * The agent is on loopback: the bytes of one write arrive together, so this long without more
 * means it is waiting (for an answer, on a bidi stream): what the scan held back goes out.
 */
const QUIET_MS = 10;

/**
 * The body through its tripwire scan (core/tripwire.ts): bytes go on as they are cleared, and
 * what could begin a needle is held only while more bytes are coming ({@link QUIET_MS}).
 */
function _scanned(scan: BodyScan, trip: () => void): Transform {
  let quiet: ReturnType<typeof setTimeout> | undefined;
  const transform: Transform = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      clearTimeout(quiet);
      const out = scan.push(chunk);
      if (out === null) return trip();
      done(null, out);
      quiet = setTimeout(() => {
        const held = scan.flush();
        if (held.length > 0) transform.push(held);
      }, QUIET_MS);
    },
    flush(done) {
      clearTimeout(quiet);
      const rest = scan.end();
      if (rest === null) return trip();
      done(null, rest);
    },
  });
  transform.once("close", () => clearTimeout(quiet));
  return transform;
}

function _code(error: unknown): string {
  return typeof error === "object" && error !== null && "code" in error && typeof error.code === "string" ? error.code : "";
}
