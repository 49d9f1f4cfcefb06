/**
 * One HTTP/2 stream of an intercepted tunnel, forwarded as one stream on the upstream's shared
 * session (h2-upstream.ts). The request goes through the same egress pipeline as an HTTP/1.1
 * request (request.ts `prepareRequest`): `:path` is the request target, `:authority` must name
 * the CONNECT target (else 421, as `Host` over HTTP/1.1: core/egress.ts), and the pipeline's
 * header rules apply to the other fields. Bodies, responses and trailers are piped with backpressure, so
 * HTTP/2 flow control reaches from the agent to the server; resets travel per stream.
 */
import http2 from "node:http2";
import { tripwireDenial } from "../core/egress.ts";
import { scrubberFor, type Scrubber } from "../core/scrub.ts";
import type { BodyScan } from "../core/tripwire.ts";
import { buildResponseHeaders } from "./headers.ts";
import { HOLD_MAX, readWhole, relayAnswer, relayBody } from "./h2-body.ts";
import { addFields, announcedLength, askIdentity, CONNECTION_SPECIFIC, flatten, grpcEncoded, type H2Request, isGrpc, readRequest, toHeaders } from "./h2-headers.ts";
import type { H2Upstream } from "./h2-upstream.ts";
import { type ForwardContext, type Prepared, ProxyReply, prepareRequest, replyParts, reportInjection, reportRefusal } from "./request.ts";
import { isEncoded, scrubRequestHeaders } from "./scrub-body.ts";
import type { TunnelSession } from "./terminate.ts";
import { describeUpstreamError, type Target } from "./upstream.ts";

const { NGHTTP2_CANCEL, NGHTTP2_FLAG_END_STREAM, NGHTTP2_INTERNAL_ERROR, NGHTTP2_REFUSED_STREAM } = http2.constants;

/** Forwards one agent stream; answers its own errors on the stream. */
export function forwardStream(ctx: ForwardContext, pool: H2Upstream, stream: http2.ServerHttp2Stream, rawHeaders: readonly string[], tunnel: TunnelSession): void {
  stream.on("error", () => undefined);
  let request: H2Request;
  try {
    request = readRequest(rawHeaders);
  } catch (error) {
    return replyOnStream(stream, error);
  }
  const hasBody = !stream.endAfterHeaders;
  const start = (prepared: Prepared, body: Buffer | null): void => {
    if (stream.closed || stream.destroyed) return;
    new Exchange(ctx, pool, stream, tunnel, request, prepared, hasBody, body, false).send(true);
  };
  prepareRequest(ctx, request.path, request.headers, tunnel.target, tunnel.username, false, request.method, hasBody, request.authority)
    .then((prepared) => {
      if (prepared.signBody === null || !hasBody) return start(prepared, null);
      // A signature over the body (core/sign.ts): the body is read whole first, then signed.
      return _signed(ctx, stream, tunnel.target, request.method, prepared, prepared.signBody).then((signed) => signed === undefined || start(signed.prepared, signed.body));
    })
    .catch((error: unknown) => replyOnStream(stream, error));
}

/**
 * Reads a signed request's body whole (through its tripwire scan, at most MAX_SIGNED_BODY
 * bytes), then signs the head; undefined when the scan tripped (the agent got its 403).
 */
async function _signed(ctx: ForwardContext, stream: http2.ServerHttp2Stream, target: Target, method: string, prepared: Prepared, signBody: NonNullable<Prepared["signBody"]>): Promise<{ prepared: Prepared; body: Buffer } | undefined> {
  const scan = prepared.bodyScan;
  const body = await readWhole(stream, scan);
  if (body === null) return void _denyTripped(ctx, stream, scan, target, method);
  const head = await signBody(body);
  return { prepared: { ...prepared, path: head.path, headers: head.headers, bodyScan: null, signBody: null }, body };
}

/** The 403 for a body that tripped (audited by the egress pipeline's tripwireDenial). */
function _denyTripped(ctx: ForwardContext, stream: http2.ServerHttp2Stream, scan: BodyScan | null, target: Target, method: string): void {
  const denial = ctx.tripwire === undefined || scan === null ? null : tripwireDenial(ctx.tripwire, scan, target.host, method);
  replyOnStream(stream, new ProxyReply(403, denial?.action === "deny" ? denial.reason : "blocked by a tripwire"));
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

/**
 * The most of a request body kept for the one retry after a 401 (see `_retryRefused`): a
 * larger body (an upload, a long gRPC stream) is not held back in memory; its 401 goes to the
 * agent, and the token, marked expired, is refreshed for the next request.
 */
export const REPLAY_MAX = 64 * 1024;

/** One request and its answer, between an agent stream and an upstream stream. */
class Exchange {
  private up: http2.ClientHttp2Stream | null = null;
  private reported = false;
  /** Body bytes went upstream: a refused stream can no longer be sent again. */
  private bodyStarted = false;
  private readonly scrub: Scrubber | null;
  /** The body as sent so far, for a retry after a 401; null once it cannot be (past REPLAY_MAX, or no retry possible). */
  private kept: Buffer[] | null;
  private keptBytes = 0;
  private bodyEnded = false;
  /** Sends the answer's head if relayAnswer still holds it. */
  private release: (() => void) | null = null;

  private readonly ctx: ForwardContext;
  private readonly pool: H2Upstream;
  private readonly stream: http2.ServerHttp2Stream;
  private readonly tunnel: TunnelSession;
  private readonly target: Target;
  private readonly request: H2Request;
  private readonly prepared: Prepared;
  private readonly hasBody: boolean;
  /** A body read whole already (a signed request, or the replay of a refused one), sent as it is. */
  private readonly body: Buffer | null;
  /** This is the retry after a 401: its answer, a second 401 included, goes to the agent. */
  private readonly authRetried: boolean;

  constructor(ctx: ForwardContext, pool: H2Upstream, stream: http2.ServerHttp2Stream, tunnel: TunnelSession, request: H2Request, prepared: Prepared, hasBody: boolean, body: Buffer | null, authRetried: boolean) {
    this.ctx = ctx;
    this.pool = pool;
    this.stream = stream;
    this.tunnel = tunnel;
    this.target = tunnel.target;
    this.request = request;
    this.prepared = prepared;
    this.hasBody = hasBody;
    this.body = body;
    this.authRetried = authRetried;
    this.scrub = scrubberFor(prepared.decision);
    this.kept = this._mayRetry() && body === null && hasBody ? [] : null;
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
    let failure: unknown;
    up.on("error", (error) => (failure = error));
    up.on("close", () => {
      this.pool.closed(session);
      this._upstreamClosed(up, mayRetry, failure);
    });
    up.on("headers", (headers) => this._interim(headers));
    up.on("response", (headers, flags, raw?: string[]) => this._response(up, headers, flags, raw));
    if (this.hasBody && !this.bodyStarted) this._pipeBody(up);
  }

  private _upstreamHeaders(): http2.OutgoingHttpHeaders {
    const { method, trailers } = this.request;
    const out: http2.OutgoingHttpHeaders = { ":method": method, ":scheme": "https", ":authority": this.target.authority, ":path": this.prepared.path };
    const headers = this.scrub === null ? this.prepared.headers : askIdentity(scrubRequestHeaders(this.prepared.headers));
    addFields(out, headers, CONNECTION_SPECIFIC);
    if (trailers) out["te"] = "trailers";
    return out;
  }

  private _pipeBody(up: http2.ClientHttp2Stream): void {
    this.bodyStarted = true;
    if (this.body !== null) return void up.end(this.body);
    const scan = this.prepared.bodyScan;
    if (scan === null && this.kept === null) return void this.stream.pipe(up);
    relayBody(this.stream, up, scan, { tripped: () => this._tripped(scan), sent: this.kept === null ? null : (chunk) => this._keep(chunk), ended: () => (this.bodyEnded = true) });
  }

  /** Keeps what went upstream (after the tripwire scan) while it fits in {@link REPLAY_MAX}. */
  private _keep(chunk: Buffer): void {
    if (this.kept === null) return;
    this.keptBytes += chunk.length;
    if (this.keptBytes > REPLAY_MAX) this.kept = null;
    else this.kept.push(chunk);
  }

  /** A 401 may be retried: the request was injected, the refusal can be recorded, and this is not the retry. */
  private _mayRetry(): boolean {
    return !this.authRetried && this.prepared.decision !== null && this.ctx.onRefusal !== undefined && this.prepared.signBody === null;
  }

  /**
   * A 401 to an injected stream whose body is replayable (none, or all of it kept): as over
   * HTTP/1.1 (relay.ts), the refusal is recorded (the stored token marked expired), the refused
   * answer dropped with its upstream stream, and the request decided afresh (so with the
   * refreshed token) and sent once more on the same agent stream. Any method: a 401 says the
   * server did not act on the request. A signed request is not retried (its signature is not a
   * token that refreshes).
   */
  private _retryRefused(up: http2.ClientHttp2Stream, fields: readonly string[]): boolean {
    if (!this._mayRetry() || this.body !== null) return false;
    if (this.hasBody && (this.kept === null || !this.bodyEnded)) return false;
    const body = this.hasBody ? Buffer.concat(this.kept ?? []) : null;
    this.up = null;
    up.close(NGHTTP2_CANCEL);
    const { ctx, request, tunnel, stream } = this;
    reportRefusal(ctx, this.prepared.decision, 401, fields, tunnel.target.host, request.method)
      .then(() => prepareRequest(ctx, request.path, request.headers, tunnel.target, tunnel.username, false, request.method, this.hasBody, request.authority))
      .then((prepared) => {
        if (stream.closed || stream.destroyed) return;
        new Exchange(ctx, this.pool, stream, tunnel, request, prepared, this.hasBody, body, true).send(true);
      })
      .catch((error: unknown) => this._fail(error));
    return true;
  }

  /** A body carried a needle: the upstream stream is reset (the rest never leaves), the agent gets 403. */
  private _tripped(scan: BodyScan | null): void {
    this.up?.close(NGHTTP2_CANCEL);
    _denyTripped(this.ctx, this.stream, scan, this.target, this.request.method);
  }

  /** 1xx answers (100-continue, 103) pass on as they come. */
  private _interim(headers: http2.IncomingHttpHeaders & http2.IncomingHttpStatusHeader): void {
    const status = Number(headers[":status"]);
    if (status >= 200 || this.stream.headersSent || this.stream.closed) return;
    const raw = flatten(headers);
    this.stream.additionalHeaders(toHeaders(status, this._clean(raw)));
  }

  private _response(up: http2.ClientHttp2Stream, headers: http2.IncomingHttpHeaders & http2.IncomingHttpStatusHeader, flags: number, raw: string[] | undefined): void {
    const status = Number(headers[":status"]);
    const fields = raw ?? flatten(headers);
    const ended = (flags & NGHTTP2_FLAG_END_STREAM) !== 0;
    const scrub = this.scrub;
    if (scrub !== null && !ended && (isEncoded(fields) || grpcEncoded(fields))) {
      up.close(NGHTTP2_CANCEL);
      this._report(502);
      return this._fail(new ProxyReply(502, "the upstream compressed a response that must be scrubbed, although identity was asked for"));
    }
    if (status === 401 && this._retryRefused(up, fields)) return;
    this._report(status);
    // A 401/403 to an injected stream is recorded as over HTTP/1.1 (MCP step-up, a dead token
    // marked expired for the next request).
    if (status === 401 || status === 403) void reportRefusal(this.ctx, this.prepared.decision, status, fields, this.target.host, this.request.method);
    if (this.stream.closed || this.stream.destroyed) return;
    const head = toHeaders(status, this._clean(fields));
    if (ended) return void this.stream.respond(head, { endStream: true });
    const body = scrub === null || _tooShortFor(scrub, fields) ? null : scrub.stream(true);
    const wait = !isGrpc(fields) && !(announcedLength(fields) > HOLD_MAX);
    this.release = relayAnswer(up, this.stream, head, wait, body, (trailers) => {
      const out: http2.OutgoingHttpHeaders = {};
      addFields(out, this._clean(flatten(trailers)), null);
      return out;
    });
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

  private _upstreamClosed(up: http2.ClientHttp2Stream, mayRetry: boolean, failure: unknown): void {
    if (this.up !== up) return;
    const stream = this.stream;
    if (stream.closed || stream.destroyed) return;
    // An answer's head still held (relayAnswer) goes out first, as if it had been sent at once.
    this.release?.();
    const code = up.rstCode ?? 0;
    if (stream.headersSent) {
      // Reset by the server (or its session went away) mid-answer: the agent's stream alike.
      if (code !== 0 || !up.readableEnded) stream.close(code === 0 ? NGHTTP2_INTERNAL_ERROR : code);
      return;
    }
    // Refused (a GOAWAY below this stream's id): never processed, safe to send again once.
    if (code === NGHTTP2_REFUSED_STREAM && mayRetry && !this.bodyStarted) return this.send(false);
    this._report(502);
    // The session never came up (refused, TLS verification...): the reason, as on HTTP/1.1.
    if (_code(failure) === "ERR_HTTP2_STREAM_CANCEL") {
      const cause = typeof failure === "object" && failure !== null && "cause" in failure ? failure.cause : failure;
      return this._fail(new ProxyReply(502, describeUpstreamError(cause, this.target)));
    }
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
 * A body announced shorter than the shortest form of any secret cannot hold one (node:http2
 * refuses DATA past a `content-length`): it is piped as it comes, its headers still scrubbed.
 */
function _tooShortFor(scrub: Scrubber, fields: readonly string[]): boolean {
  return announcedLength(fields) < (scrub.patterns.at(-1)?.length ?? 0);
}

function _code(error: unknown): string {
  return typeof error === "object" && error !== null && "code" in error && typeof error.code === "string" ? error.code : "";
}
