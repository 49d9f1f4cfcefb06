/**
 * The fast path for intercepted tunnels: HTTP/1.1 relayed between the agent's (decrypted)
 * connection and pooled upstream connections without node:http. Request heads are parsed
 * (http1.ts), decided and rewritten by the core egress pipeline (request.ts), as forward.ts's are; bodies
 * and responses travel as the bytes they are, parsed only far enough to find where each
 * message ends and to audit the status. One request at a time per tunnel: a pipelined request
 * waits (unread) until the response before it has ended.
 */
import type { Duplex } from "node:stream";
import { isWebSocketUpgrade } from "./headers.ts";
import { type ForwardContext, type Prepared, ProxyReply, prepareRequest, replyOnSocket, reportInjection, reportRefusal } from "./request.ts";
import { ChunkedScanner, findHeadEnd, isFieldName, isFieldValue, MAX_HEAD_BYTES, parseRequestHead, parseResponseHead, requestFraming, responseFraming, type BodyFraming, type RequestHead } from "./http1.ts";
import type { TunnelSession } from "./terminate.ts";
import { QuietTimer } from "../core/quiet.ts";
import { scrubberFor, type Scrubber } from "../core/scrub.ts";
import { tripwireDenial } from "../core/egress.ts";
import type { BodyScan } from "../core/tripwire.ts";
import { ChunkedBodyScan } from "../core/tripwire-chunked.ts";
import { FramedScrubber, scrubRequestHeaders, scrubResponseHead } from "./scrub-body.ts";
import { WebSocketScrubber } from "./scrub-ws.ts";
import { describeUpstreamError, type ConnectionOwner, type UpstreamConnection } from "./upstream.ts";

const EMPTY = Buffer.alloc(0);

/** Idle time after which a tunnel with no request in progress is closed (as node:http's keep-alive). */
const IDLE_MS = 5_000;

/** Remaining body: a byte count, or a scanner for chunked framing, or (responses) until close. */
type Remaining = number | ChunkedScanner | "close";

/** The request in progress on a tunnel. */
interface Exchange {
  method: string;
  prepared: Prepared;
  /** The head as sent, kept to resend once on a stale pooled connection. */
  head: string;
  hasBody: boolean;
  bodyDone: boolean;
  /** Bytes of a response (interim ones too) went to the agent: no error answer possible. */
  responded: boolean;
  reported: boolean;
  retried: boolean;
  /** The agent asked to close after this exchange (`Connection: close`, HTTP/1.0). */
  close: boolean;
  websocket: boolean;
  /** Scrubs the response of an injected request (scrub.ts); null: passed on as it is. */
  scrub: Scrubber | null;
  /** The request as the agent sent it, for the one retry after a 401 (see `_retryRefused`). */
  request: { head: RequestHead; framing: BodyFraming };
  /** This is that retry: a second 401 goes to the agent. */
  authRetried: boolean;
}

/** Methods a 401 may retry once after a refresh (RFC 9110 9.2.2: idempotent; and no body to replay). */
const RETRYABLE = new Set(["GET", "HEAD", "OPTIONS"]);

type Phase = "head" | "deciding" | "body" | "waiting" | "tunnel" | "closed";

/** Serves one decrypted tunnel until either side closes. `first` holds bytes already read. */
export function relayTunnel(ctx: ForwardContext, client: Duplex, session: TunnelSession, first?: Buffer): void {
  const relay = new Relay(ctx, client, session);
  if (first !== undefined && first.length > 0) relay.clientData(first);
}

class Relay implements ConnectionOwner {
  private phase: Phase = "head";
  private pending: Buffer | null = null;
  private scanFrom = 0;
  private requestLeft: Remaining = 0;
  private exchange: Exchange | null = null;
  private up: UpstreamConnection | null = null;
  private upBlocked = false;
  private clientPaused = false;
  private responding = false;
  private responseLeft: Remaining = 0;
  private responsePending: Buffer | null = null;
  private responseCloses = false;
  /** Scrubs the response body in progress (same length: its framing is kept). */
  private responseBody: FramedScrubber | null = null;
  /** Scrubs the server's frames once a scrubbed exchange became a WebSocket. */
  private frames: WebSocketScrubber | null = null;
  /** The tripwire scan of the request body in progress (its data alone when chunked), or null. */
  private bodyScan: BodyScan | ChunkedBodyScan | null = null;
  /** The agent half-closed: it gets the answers to the requests it sent, then the connection ends. */
  private clientEnded = false;
  /** What the response scrubber holds back goes on once the upstream is quiet (core/quiet.ts). */
  private readonly upQuiet = new QuietTimer(() => this._flushResponse());
  /** What the tripwire scan holds back goes on once the agent is quiet. */
  private readonly agentQuiet = new QuietTimer(() => this._flushRequest());
  /** A signed request's body, read whole before its head can be signed (core/sign.ts). */
  private signing: { parts: Buffer[]; finish: NonNullable<Prepared["signBody"]>; text: (path: string, headers: readonly string[]) => string } | null = null;

  private readonly ctx: ForwardContext;
  private readonly client: Duplex;
  private readonly session: TunnelSession;

  constructor(ctx: ForwardContext, client: Duplex, session: TunnelSession) {
    this.ctx = ctx;
    this.client = client;
    this.session = session;
    client.on("data", (chunk: Buffer) => this.clientData(chunk));
    client.on("error", () => client.destroy());
    client.on("end", () => {
      this.clientEnded = true;
      // A WebSocket's bytes flow raw: the agent's half-close is the upstream's too.
      if (this.phase === "tunnel") this.up?.socket.end();
      this._endIfIdle();
    });
    client.on("close", () => this._close());
    // The tunnel code pauses the socket while it sniffs the first bytes.
    client.resume();
    if ("setTimeout" in client && typeof client.setTimeout === "function") {
      client.setTimeout(IDLE_MS);
      client.on("timeout", () => this.phase === "head" && this.exchange === null && this._close());
    }
  }

  clientData(chunk: Buffer): void {
    if (this.phase === "tunnel") return this._writeUp(chunk);
    if (this.phase === "closed") return;
    this.pending = this.pending === null ? chunk : Buffer.concat([this.pending, chunk]);
    this._pump();
  }

  // ---- agent -> upstream

  private _pump(): void {
    try {
      while (this.pending !== null) {
        if (this.phase === "body") this._forwardBody(this.pending);
        else if (this.phase !== "head" || !this._readHead(this.pending)) break;
      }
    } catch (error) {
      this._fail(error);
    }
  }

  private _readHead(data: Buffer): boolean {
    // RFC 9112 section 2.2: empty lines before a request line are ignored.
    let start = 0;
    while (data[start] === 0x0d && data[start + 1] === 0x0a) start += 2;
    // A bare LF or CR is answered 400 at once: a head so delimited would never be complete.
    const end = findHeadEnd(data, start, this.scanFrom, 400);
    if (end < 0 || end - start > MAX_HEAD_BYTES) {
      if (data.length - start > MAX_HEAD_BYTES) throw new ProxyReply(431, "request head too large");
      this.scanFrom = Math.max(start, data.length - 3);
      return false;
    }
    const head = parseRequestHead(data.toString("latin1", start, end));
    this.pending = end + 4 === data.length ? null : data.subarray(end + 4);
    this.scanFrom = 0;
    if (head.method === "CONNECT") throw new ProxyReply(405, "CONNECT inside a tunnel is not supported");
    const framing = requestFraming(head.rawHeaders);
    const websocket = isWebSocketUpgrade(head.rawHeaders);
    this.phase = "deciding";
    this._flow();
    const { ctx, session } = this;
    prepareRequest(ctx, head.target, head.rawHeaders, session.target, session.username, websocket, head.method)
      .then((prepared) => this._send(head, framing, prepared, websocket))
      .catch((error: unknown) => this._fail(error));
    return true;
  }

  private _send(head: RequestHead, framing: BodyFraming, prepared: Prepared, websocket: boolean, authRetried = false): void {
    if (this.phase === "closed") return;
    if (prepared.decision !== null) _checkInjected(prepared.decision.headers);
    // An upgrade other than WebSocket is sent without `Upgrade` (as forward.ts does); the agent
    // may still wait for a 101 on this connection, so it ends with the answer.
    const close = head.minor === 0 || _hasConnectionToken(head.rawHeaders, "close") || (!websocket && _hasConnectionToken(head.rawHeaders, "upgrade"));
    const scrub = scrubberFor(prepared.decision);
    const headText = (path: string, sent: readonly string[]): string => {
      let text = `${head.method} ${path} HTTP/1.${head.minor}\r\n`;
      const headers = scrub === null ? sent : scrubRequestHeaders(sent);
      for (let i = 0; i < headers.length; i += 2) text += `${headers[i]}: ${headers[i + 1]}\r\n`;
      return text + (close ? "Connection: close\r\n\r\n" : "\r\n");
    };
    const text = headText(prepared.path, prepared.headers);
    const hasBody = framing.kind === "chunked" || (framing.kind === "length" && framing.length > 0);
    this.exchange = { method: head.method, prepared, head: text, hasBody, bodyDone: !hasBody, responded: false, reported: false, retried: false, close, websocket, scrub, request: { head, framing }, authRetried };
    this.requestLeft = framing.kind === "chunked" ? new ChunkedScanner(400) : framing.kind === "length" ? framing.length : 0;
    const scan = prepared.bodyScan;
    this.bodyScan = scan === null ? null : framing.kind === "chunked" ? new ChunkedBodyScan(scan) : scan;
    // A signature over the body: the body is read here first, the head signed and sent after it.
    if (prepared.signBody !== null && hasBody && framing.kind === "length") {
      this.signing = { parts: [], finish: prepared.signBody, text: headText };
      // A client waiting for 100 Continue would wait for a head that is sent after its body.
      if (_hasExpectContinue(head.rawHeaders)) this._writeClient("HTTP/1.1 100 Continue\r\n\r\n");
      this.phase = "body";
      this._flow();
      return this._pump();
    }
    const up = this.ctx.upstream.acquire(this.session.target, this);
    this.up = up;
    this.phase = hasBody ? "body" : "waiting";
    // The head and the body bytes already here leave in one write (one TLS record).
    up.socket.cork();
    this._writeUp(text);
    this._flow();
    this._pump();
    up.socket.uncork();
  }

  private _forwardBody(data: Buffer): void {
    const { taken, left, done } = _bodyPart(this.requestLeft, data);
    this.requestLeft = left;
    this.pending = taken === data.length ? null : data.subarray(taken);
    const part = taken === data.length ? data : data.subarray(0, taken);
    const scan = this.bodyScan;
    if (this.signing !== null) return this._collect(part, taken, done);
    if (scan === null) {
      if (taken > 0) this._writeUp(part);
    } else {
      // The tripwire scan (core/tripwire.ts) holds back a possible start of a value until known.
      this.agentQuiet.cancel();
      const out = taken > 0 ? scan.push(part) : EMPTY;
      const rest = out !== null && done ? scan.end() : EMPTY;
      if (out === null || rest === null) return this._tripped(scan);
      if (out.length > 0) this._writeUp(out);
      if (rest.length > 0) this._writeUp(rest);
      if (!done && scan.holding) this.agentQuiet.arm();
    }
    if (!done) return;
    this.phase = "waiting";
    if (this.exchange !== null) this.exchange.bodyDone = true;
    this._flow();
  }

  /** The agent went quiet inside a body: what the tripwire scan held back goes on (it stays in view). */
  private _flushRequest(): void {
    const scan = this.bodyScan;
    if (this.phase !== "body" || scan === null || this.signing !== null) return;
    const held = scan.flush();
    if (held.length > 0) this._writeUp(held);
  }

  /** A signed request's body: kept (through its tripwire scan) until whole, then signed and sent. */
  private _collect(part: Buffer, taken: number, done: boolean): void {
    const signing = this.signing;
    if (signing === null) return;
    const scan = this.bodyScan;
    const out = scan === null ? part : taken > 0 ? scan.push(part) : EMPTY;
    const rest = scan !== null && out !== null && done ? scan.end() : EMPTY;
    if (out === null || rest === null) return this._tripped(scan as BodyScan | ChunkedBodyScan);
    if (taken > 0) signing.parts.push(out === part ? Buffer.from(part) : out);
    if (rest.length > 0) signing.parts.push(rest);
    if (!done) return;
    this.phase = "waiting";
    this._flow();
    const body = Buffer.concat(signing.parts);
    signing.finish(body).then((signed) => {
      if (this.phase === "closed" || this.exchange === null) return;
      this.signing = null;
      const text = signing.text(signed.path, signed.headers);
      this.exchange.head = text;
      this.exchange.bodyDone = true;
      // Sent as one, like a body that came with its head; a stale pooled connection is not retried.
      this.exchange.retried = true;
      const up = this.ctx.upstream.acquire(this.session.target, this);
      this.up = up;
      up.socket.cork();
      this._writeUp(text);
      this._writeUp(body);
      up.socket.uncork();
    }).catch((error: unknown) => this._fail(error));
  }

  /** A body carried a needle: the upstream connection is dropped (the rest never leaves) and the agent gets 403. */
  private _tripped(scan: BodyScan | ChunkedBodyScan): void {
    const tripwire = this.ctx.tripwire;
    const denial = tripwire === undefined ? null : tripwireDenial(tripwire, scan, this.session.target.host, this.exchange?.method ?? "POST");
    this._fail(new ProxyReply(403, denial?.action === "deny" ? denial.reason : "blocked by a tripwire"));
  }

  private _writeUp(data: Buffer | string): void {
    const up = this.up;
    if (up === null) return;
    const ok = typeof data === "string" ? up.socket.write(data, "latin1") : up.socket.write(data);
    if (ok || this.upBlocked) return;
    this.upBlocked = true;
    this._flow();
    up.socket.once("drain", () => {
      this.upBlocked = false;
      this._flow();
    });
  }

  /** Reads from the agent only while there is somewhere to put the bytes. */
  private _flow(): void {
    const phase = this.phase;
    const want = !this.upBlocked && (phase === "head" || phase === "body" || phase === "tunnel");
    if (want === !this.clientPaused) return;
    this.clientPaused = !want;
    if (want) this.client.resume();
    else this.client.pause();
  }

  // ---- upstream -> agent (ConnectionOwner)

  data(chunk: Buffer): void {
    this.upQuiet.cancel();
    if (this.phase === "tunnel") return this._tunnelOut(chunk);
    if (this.exchange === null) return void this.up?.socket.destroy();
    this.responsePending = this.responsePending === null ? chunk : Buffer.concat([this.responsePending, chunk]);
    // A response head and body that arrived together leave in one write (one TLS record).
    this.client.cork();
    try {
      while (this.responsePending !== null && this.exchange !== null && !this._tunnelled()) {
        if (this.responding) this._forwardResponseBody(this.responsePending);
        else if (!this._readResponseHead(this.responsePending, this.exchange)) break;
      }
    } catch (error) {
      // A response we could not relay is audited as the 502 the agent gets.
      if (this.exchange !== null) this._report(this.exchange, 502);
      this._fail(error);
    } finally {
      this.client.uncork();
    }
    if (this.responseBody?.holding === true) this.upQuiet.arm();
  }

  private _readResponseHead(data: Buffer, exchange: Exchange): boolean {
    const end = findHeadEnd(data, 0, 0, 502);
    if (end < 0) {
      if (data.length > MAX_HEAD_BYTES) throw new ProxyReply(502, "the upstream's response head is too large");
      return false;
    }
    const head = parseResponseHead(data.toString("latin1", 0, end));
    const rest = end + 4 === data.length ? null : data.subarray(end + 4);
    this.responsePending = rest;
    if (head.status === 101 && !exchange.websocket) throw new ProxyReply(502, "the upstream switched protocols unasked");
    // Checked before anything is reported or sent, so that a bad framing still gets its 502.
    const framing = responseFraming(exchange.method, head.status, head.rawHeaders);
    const scrub = exchange.scrub;
    const scrubbedHead = scrub === null ? null : scrubResponseHead(scrub, data.toString("latin1", 0, data.indexOf("\r\n")), head.rawHeaders, framing);
    if (this._retryRefused(exchange, head.status, head.rawHeaders)) return false;
    if (head.status >= 200 || head.status === 101) this._report(exchange, head.status);
    void reportRefusal(this.ctx, exchange.prepared.decision, head.status, head.rawHeaders, this.session.target.host, exchange.method);
    exchange.responded = true;
    this._writeClient(scrubbedHead ?? _clientHead(data, end, head.rawHeaders));
    if (head.status === 101) {
      if (scrub !== null) this.frames = new WebSocketScrubber(scrub);
      return this._tunnel(rest), false;
    }
    if (head.status < 200) return true;
    this.responseCloses = head.minor === 0 || _hasConnectionToken(head.rawHeaders, "close");
    this.responseLeft = framing.kind === "chunked" ? new ChunkedScanner(502) : framing.kind === "length" ? framing.length : "close";
    this.responding = true;
    this.responseBody = scrub === null || this.responseLeft === 0 ? null : new FramedScrubber(scrub, framing);
    if (this.responseLeft === 0) this._responseDone();
    return true;
  }

  /**
   * A 401 to an injected, bodiless, idempotent request: the refusal is recorded (the stored token
   * marked expired, ForwardContext.onRefusal), the answer dropped with its connection, and the
   * request decided afresh (so with the refreshed token) and sent once more. Never more: the
   * retry's answer, a second 401 included, goes to the agent.
   */
  private _retryRefused(exchange: Exchange, status: number, rawHeaders: readonly string[]): boolean {
    if (status !== 401 || exchange.authRetried || exchange.hasBody || exchange.websocket || exchange.prepared.decision === null || !RETRYABLE.has(exchange.method) || this.ctx.onRefusal === undefined) return false;
    const up = this.up;
    this.up = null;
    this.responsePending = null;
    if (up !== null) {
      up.owner = null;
      up.socket.destroy();
    }
    this.phase = "deciding";
    const { ctx, session } = this;
    const { head, framing } = exchange.request;
    reportRefusal(ctx, exchange.prepared.decision, status, rawHeaders, session.target.host, exchange.method)
      .then(() => prepareRequest(ctx, head.target, head.rawHeaders, session.target, session.username, false, head.method))
      .then((prepared) => this._send(head, framing, prepared, false, true))
      .catch((error: unknown) => this._fail(error));
    return true;
  }

  /** Body bytes for the agent, scrubbed in place when the request was injected. */
  private _writeBody(bytes: Buffer): void {
    this._writeClient(this.responseBody === null ? bytes : this.responseBody.push(bytes));
  }

  /** The upstream went quiet: what the scrubber held back goes to the agent (it stays in view). */
  private _flushResponse(): void {
    if (this.phase === "closed") return;
    const held = this.phase === "tunnel" ? this.frames?.flush() : this.responseBody?.flush();
    if (held !== undefined && held.length > 0) this._writeClient(held);
  }

  /** The end of a body: what the scrubber held back (a possible start of a secret) goes out. */
  private _endBody(): void {
    this.upQuiet.cancel();
    if (this.responseBody !== null) this._writeClient(this.responseBody.end());
    this.responseBody = null;
  }

  /** Bytes of a WebSocket (after 101) for the agent, scrubbed frame by frame when the handshake was injected. */
  private _tunnelOut(chunk: Buffer): void {
    try {
      this._writeClient(this.frames === null ? chunk : this.frames.push(chunk));
      if (this.frames?.holding === true) this.upQuiet.arm();
    } catch {
      // A frame that cannot be scrubbed (an extension's reserved bit) is never passed on.
      this.client.destroy();
      this.up?.socket.destroy();
    }
  }

  private _forwardResponseBody(data: Buffer): void {
    const { taken, left, done } = _bodyPart(this.responseLeft, data);
    this.responseLeft = left;
    this.responsePending = taken === data.length ? null : data.subarray(taken);
    if (taken > 0) this._writeBody(taken === data.length ? data : data.subarray(0, taken));
    if (!done) return;
    this._endBody();
    this._responseDone();
  }

  private _responseDone(): void {
    const exchange = this.exchange;
    const up = this.up;
    this.exchange = null;
    this.up = null;
    this.responding = false;
    if (up !== null) {
      // Extra bytes after a response, or a request body still coming: the connection is not clean.
      // Nor is one we asked to close: the server may close it the moment it has answered.
      const clean = !this.responseCloses && exchange?.close === false && exchange.bodyDone && this.responsePending === null;
      this.responsePending = null;
      if (clean) this.ctx.upstream.release(up);
      else {
        up.owner = null;
        up.socket.destroy();
      }
    }
    // A body that ends with the connection can only end so for the agent too; and the agent got
    // the upstream's `Connection: close` as is, which obliges us to close (RFC 9112 section 9.6).
    if (exchange === null || exchange.close || !exchange.bodyDone || this.responseLeft === "close" || this.responseCloses) {
      this.phase = "closed";
      if (!this.client.destroyed) this.client.end();
      return;
    }
    this.phase = "head";
    this._flow();
    this._pump();
    this._endIfIdle();
  }

  /** No request in progress and none can come: a head still incomplete never will be. */
  private _endIfIdle(): void {
    if (this.clientEnded && this.phase === "head") this._close();
  }

  closed(error: Error | undefined): void {
    const exchange = this.exchange;
    const up = this.up;
    this.up = null;
    if (this.phase === "closed") return;
    if (this.phase === "tunnel") return void (error === undefined ? this.client.end() : this.client.destroy());
    if (exchange === null || up === null) return;
    if (this.responding && this.responseLeft === "close") {
      this.responseCloses = true;
      this.up = null;
      this._endBody();
      return this._responseDone();
    }
    if (exchange.responded) return void this.client.destroy();
    // A pooled connection the server had just closed: resend once if no body was consumed.
    if (up.reused && !exchange.hasBody && !exchange.retried) {
      exchange.retried = true;
      this.responsePending = null;
      this.up = this.ctx.upstream.acquire(this.session.target, this);
      return this._writeUp(exchange.head);
    }
    this._report(exchange, 502);
    const reason = error === undefined ? `${this.session.target.host}:${this.session.target.port} closed the connection without answering` : describeUpstreamError(error, this.session.target);
    this._fail(new ProxyReply(502, reason));
  }

  private _writeClient(data: Buffer | string): void {
    const ok = typeof data === "string" ? this.client.write(data, "latin1") : this.client.write(data);
    const up = this.up;
    if (ok || up === null) return;
    up.socket.pause();
    this.client.once("drain", () => up.socket.resume());
  }

  private _tunnel(rest: Buffer | null): void {
    this.phase = "tunnel";
    this.responding = false;
    this.responsePending = null;
    if (rest !== null) this._tunnelOut(rest);
    const early = this.pending;
    this.pending = null;
    if (early !== null) this._writeUp(early);
    this._flow();
  }

  /** (A method, so the compiler does not narrow `phase` across the calls that change it.) */
  private _tunnelled(): boolean {
    return this.phase === "tunnel";
  }

  private _report(exchange: Exchange, status: number): void {
    if (exchange.reported) return;
    exchange.reported = true;
    reportInjection(this.ctx, exchange.prepared.decision, this.session.target, exchange.method, status);
  }

  /** Answers an error when nothing of a response went out yet, else drops the connection. */
  private _fail(error: unknown): void {
    if (this.phase === "closed") return;
    const answered = this.exchange?.responded === true;
    this.phase = "closed";
    this._dropUpstream();
    if (answered) this.client.destroy();
    else replyOnSocket(this.client, error);
  }

  private _close(): void {
    if (this.phase !== "closed") {
      this.phase = "closed";
      if (!this.client.destroyed) this.client.end();
    }
    this._dropUpstream();
  }

  private _dropUpstream(): void {
    this.upQuiet.stop();
    this.agentQuiet.stop();
    const up = this.up;
    this.up = null;
    this.exchange = null;
    if (up === null) return;
    up.owner = null;
    up.socket.destroy();
  }
}

/** How many bytes of `data` belong to a body with `left` remaining, and what remains after them. */
function _bodyPart(left: Remaining, data: Buffer): { taken: number; left: Remaining; done: boolean } {
  if (typeof left === "number") {
    const taken = Math.min(left, data.length);
    return { taken, left: left - taken, done: left === taken };
  }
  if (left instanceof ChunkedScanner) return { taken: left.feed(data), left, done: left.done };
  return { taken: data.length, left, done: false }; // until the connection closes
}

function _hasExpectContinue(rawHeaders: readonly string[]): boolean {
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i]?.toLowerCase() === "expect" && rawHeaders[i + 1]?.trim().toLowerCase() === "100-continue") return true;
  }
  return false;
}

/** The response head for the agent: as received, unless it carries headers it must not see. */
function _clientHead(data: Buffer, end: number, rawHeaders: readonly string[]): Buffer {
  let strip = false;
  for (let i = 0; i < rawHeaders.length && !strip; i += 2) {
    const lower = (rawHeaders[i] ?? "").toLowerCase();
    strip = lower.startsWith("proxy-") || lower.startsWith("x-authsome-");
  }
  if (!strip) return data.subarray(0, end + 4);
  const lines = data.toString("latin1", 0, end).split("\r\n");
  const kept = lines.filter((line, i) => {
    const lower = line.toLowerCase();
    return i === 0 || !(lower.startsWith("proxy-") || lower.startsWith("x-authsome-"));
  });
  return Buffer.from(`${kept.join("\r\n")}\r\n\r\n`, "latin1");
}

/** True when `token` (lower case) is among the Connection header's tokens. */
function _hasConnectionToken(rawHeaders: readonly string[], token: string): boolean {
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] ?? "";
    if (name.length !== 10 || name.toLowerCase() !== "connection") continue;
    if ((rawHeaders[i + 1] ?? "").split(",").some((t) => t.trim().toLowerCase() === token)) return true;
  }
  return false;
}

/** Injected header names and values become raw head bytes: they must be a token and a field value. */
function _checkInjected(headers: Record<string, string>): void {
  for (const name of Object.keys(headers)) {
    if (!isFieldName(name) || !isFieldValue(headers[name] ?? "")) {
      throw new ProxyReply(502, `the injected header ${isFieldName(name) ? name : "name"} is not a valid HTTP field`);
    }
  }
}
