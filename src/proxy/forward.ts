/**
 * Forwarding one HTTP request (or WebSocket handshake) to its target, with the injection decided
 * on the request's real URL. Bodies stream both ways; nothing is buffered whole.
 */
import type http from "node:http";
import { type Duplex, type Readable, Transform as StreamTransform, type Transform } from "node:stream";
import { tripwireDenial } from "../core/egress.ts";
import { QuietTimer } from "../core/quiet.ts";
import type { BodyScan } from "../core/tripwire.ts";
import type { InjectionDecision } from "../core/injector.ts";
import { buildResponseHeaders, hasRequestBody, rawResponseHead } from "./headers.ts";
import { type ForwardContext, type Prepared, ProxyReply, prepareRequest, replyOnSocket, reportInjection, sendReply } from "./request.ts";
import { describeUpstreamError, type Target } from "./upstream.ts";
import { scrubberFor } from "../core/scrub.ts";
import { scrubRequestHeaders } from "./scrub-body.ts";
import { relayScrubbed, scrubbingTransform, scrubHeaderPairs } from "./scrub-stream.ts";

// The request side both transports share lives in request.ts; re-exported for existing importers.
export { type ForwardContext, type InjectionEvent, type Prepared, ProxyReply, originFormPath, prepareRequest, replyOnSocket, reportInjection, sendReply } from "./request.ts";

/**
 * Forwards `req` to `target` and streams the answer into `res`. `username` is the proxy
 * credential's (`_` for "no choice").
 */
export async function forwardRequest(
  ctx: ForwardContext,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  target: Target,
  username: string,
): Promise<void> {
  try {
    const prepared = await prepareRequest(ctx, req.url ?? "", req.rawHeaders, target, username, false, req.method);
    if (res.destroyed) return;
    const hasBody = hasRequestBody(req.rawHeaders);
    if (prepared.signBody !== null && hasBody) return await _sendSigned(ctx, req, res, target, prepared, prepared.signBody);
    _send(ctx, req, res, target, prepared, hasBody ? req : null, true);
  } catch (error) {
    // Also reached synchronously from http.request, e.g. an injected value Node refuses to send.
    sendReply(res, error);
  }
}

/**
 * A signed request whose signature covers the body (core/sign.ts): the body is read whole
 * (through its tripwire scan; its Content-Length is within the signing limit), then the head
 * is signed and the request sent.
 */
async function _sendSigned(ctx: ForwardContext, req: http.IncomingMessage, res: http.ServerResponse, target: Target, prepared: Prepared, signBody: NonNullable<Prepared["signBody"]>): Promise<void> {
  const parts: Buffer[] = [];
  const scan = prepared.bodyScan;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    const out = scan === null ? chunk : scan.push(chunk);
    if (out === null) return _denyTripped(ctx, scan, target, req.method ?? "POST", res);
    parts.push(out);
  }
  const rest = scan === null ? EMPTY : scan.end();
  if (rest === null) return _denyTripped(ctx, scan, target, req.method ?? "POST", res);
  const body = Buffer.concat([...parts, rest]);
  const signed = await signBody(body);
  if (res.destroyed) return;
  _send(ctx, req, res, target, { ...prepared, path: signed.path, headers: signed.headers, bodyScan: null, signBody: null }, body, true);
}

function _denyTripped(ctx: ForwardContext, scan: BodyScan | null, target: Target, method: string, res: http.ServerResponse): void {
  const denial = ctx.tripwire === undefined || scan === null ? null : tripwireDenial(ctx.tripwire, scan, target.host, method);
  sendReply(res, new ProxyReply(403, denial?.action === "deny" ? denial.reason : "blocked by a tripwire"), ["Connection", "close"]);
}

const EMPTY = Buffer.alloc(0);

function _send(
  ctx: ForwardContext,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  target: Target,
  prepared: Prepared,
  body: Readable | Buffer | null,
  mayRetry: boolean,
): void {
  const method = req.method ?? "GET";
  // The answer to an injected request is scrubbed (scrub.ts), and asked for without compression.
  const scrub = scrubberFor(prepared.decision);
  const upReq = ctx.upstream.request(target, method, prepared.path, scrub === null ? prepared.headers : scrubRequestHeaders(prepared.headers), false);
  upReq.on("response", (upRes) => {
    reportInjection(ctx, prepared.decision, target, method, upRes.statusCode ?? 502);
    if (scrub !== null) return relayScrubbed(upRes, res, scrub, method);
    res.writeHead(upRes.statusCode ?? 502, upRes.statusMessage, buildResponseHeaders(upRes.rawHeaders));
    upRes.pipe(res, { end: false });
    upRes.on("end", () => {
      if (upRes.rawTrailers.length > 0) res.addTrailers(_pairs(upRes.rawTrailers));
      res.end();
    });
    // A truncated upstream body must reach the agent as a broken response, not a short one.
    upRes.on("close", () => upRes.complete || res.destroy());
  });
  upReq.on("error", (error) => {
    if (res.destroyed || res.headersSent) return void res.destroy();
    // A pooled connection the server had just closed: resend once if no body was consumed.
    if (mayRetry && (body === null || Buffer.isBuffer(body)) && upReq.reusedSocket) {
      return _send(ctx, req, res, target, prepared, body, false);
    }
    reportInjection(ctx, prepared.decision, target, method, 502);
    sendReply(res, new ProxyReply(502, describeUpstreamError(error, target)));
  });
  res.on("close", () => res.writableFinished || upReq.destroy());
  if (body === null) upReq.end();
  else if (Buffer.isBuffer(body)) upReq.end(body);
  else if (prepared.bodyScan === null) body.pipe(upReq);
  else body.pipe(_scanned(ctx, prepared.bodyScan, target, method, upReq, res)).pipe(upReq);
}

/**
 * The body through its tripwire scan (core/tripwire.ts): bytes go on as they are cleared; a
 * needle drops the upstream request (what follows never leaves) and answers the agent 403.
 */
function _scanned(ctx: ForwardContext, scan: BodyScan, target: Target, method: string, upReq: http.ClientRequest, res: http.ServerResponse): Transform {
  const trip = (): void => {
    // The upstream request's own error handler would cut the 403 short.
    upReq.removeAllListeners("error").on("error", () => undefined).destroy();
    const denial = ctx.tripwire === undefined ? null : tripwireDenial(ctx.tripwire, scan, target.host, method);
    sendReply(res, new ProxyReply(403, denial?.action === "deny" ? denial.reason : "blocked by a tripwire"), ["Connection", "close"]);
  };
  // What the scan holds back goes on once the agent is quiet (core/quiet.ts): a bidi upload waits.
  const quiet = new QuietTimer(() => {
    const held = scan.flush();
    if (held.length > 0 && !transform.destroyed) transform.push(held);
  });
  const transform: Transform = new StreamTransform({
    transform(chunk: Buffer, _encoding, done) {
      quiet.cancel();
      const out = scan.push(chunk);
      if (out === null) return trip();
      done(null, out);
      if (scan.holding) quiet.arm();
    },
    flush(done) {
      quiet.stop();
      const rest = scan.end();
      if (rest === null) return trip();
      done(null, rest);
    },
  });
  transform.once("close", () => quiet.stop());
  return transform;
}

/**
 * Forwards a WebSocket handshake; on 101 the two sockets are joined and bytes flow both ways.
 * Any other answer is passed back and the connection closed.
 */
export async function forwardWebSocket(
  ctx: ForwardContext,
  req: http.IncomingMessage,
  socket: Duplex,
  head: Buffer,
  target: Target,
  username: string,
): Promise<void> {
  socket.on("error", () => socket.destroy());
  const method = req.method ?? "GET";
  let prepared: Prepared;
  let upReq: http.ClientRequest;
  try {
    prepared = await prepareRequest(ctx, req.url ?? "", req.rawHeaders, target, username, true, method);
    if (socket.destroyed) return;
    const scrubbed = scrubberFor(prepared.decision) !== null;
    upReq = ctx.upstream.request(target, method, prepared.path, scrubbed ? scrubRequestHeaders(prepared.headers) : prepared.headers, true);
  } catch (error) {
    return replyOnSocket(socket, error);
  }
  _joinWebSocket(ctx, upReq, socket, head, target, method, prepared.decision);
}

/** Wires the upstream handshake: on 101 the sockets are joined, otherwise the answer is relayed. */
function _joinWebSocket(
  ctx: ForwardContext,
  upReq: http.ClientRequest,
  socket: Duplex,
  head: Buffer,
  target: Target,
  method: string,
  decision: InjectionDecision | null,
): void {
  const scrub = scrubberFor(decision);
  upReq.on("upgrade", (upRes, upSocket, upHead) => {
    reportInjection(ctx, decision, target, method, 101);
    const headers = buildResponseHeaders(upRes.rawHeaders, true);
    socket.write(rawResponseHead(101, upRes.statusMessage ?? "Switching Protocols", scrub === null ? headers : scrubHeaderPairs(scrub, headers)));
    if (scrub !== null) return _joinScrubbed(socket, upSocket, head, upHead, scrubbingTransform(scrub, true));
    if (upHead.length > 0) socket.write(upHead);
    if (head.length > 0) upSocket.write(head);
    upSocket.on("error", () => socket.destroy());
    socket.on("close", () => upSocket.destroy());
    upSocket.on("close", () => socket.destroy());
    socket.pipe(upSocket).pipe(socket);
  });
  upReq.on("response", (upRes) => {
    reportInjection(ctx, decision, target, method, upRes.statusCode ?? 502);
    const headers = buildResponseHeaders(upRes.rawHeaders);
    if (scrub === null) {
      socket.write(rawResponseHead(upRes.statusCode ?? 502, upRes.statusMessage ?? "", [...headers, "Connection", "close"]));
      return void upRes.pipe(socket);
    }
    socket.write(rawResponseHead(upRes.statusCode ?? 502, scrub.header("", upRes.statusMessage ?? ""), [...scrubHeaderPairs(scrub, headers), "Connection", "close"]));
    upRes.pipe(scrubbingTransform(scrub)).pipe(socket);
  });
  upReq.on("error", (error) => {
    reportInjection(ctx, decision, target, method, 502);
    replyOnSocket(socket, new ProxyReply(502, describeUpstreamError(error, target)));
  });
  socket.on("close", () => upReq.destroy());
  upReq.end();
}

/** Joins a scrubbed WebSocket: the server's frames pass through `frames` (scrub-ws.ts). */
function _joinScrubbed(socket: Duplex, upSocket: Duplex, head: Buffer, upHead: Buffer, frames: Transform): void {
  const destroy = (): void => {
    socket.destroy();
    upSocket.destroy();
  };
  upSocket.on("error", destroy);
  frames.on("error", destroy);
  socket.on("close", () => upSocket.destroy());
  upSocket.on("close", () => socket.destroy());
  if (head.length > 0) upSocket.write(head);
  if (upHead.length > 0) frames.write(upHead);
  socket.pipe(upSocket);
  upSocket.pipe(frames).pipe(socket);
}

function _pairs(raw: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i] ?? "", raw[i + 1] ?? ""]);
  return out;
}
