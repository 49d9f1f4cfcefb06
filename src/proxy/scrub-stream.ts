/**
 * Response scrubbing on the node:http forwarder (forward.ts: absolute-form `http://` requests
 * and their WebSocket handshakes): the same scrubber as the raw relay, as Node streams. Bodies
 * are scrubbed with same-length markers, so `Content-Length` stays right.
 */
import type http from "node:http";
import { Transform } from "node:stream";
import { QuietTimer } from "../core/quiet.ts";
import type { Scrubber } from "../core/scrub.ts";
import { ProxyReply, sendReply } from "./forward.ts";
import { buildResponseHeaders } from "./headers.ts";
import { isEncoded } from "./scrub-body.ts";
import { WebSocketScrubber } from "./scrub-ws.ts";

/** Header pairs (flat) with values scrubbed. */
export function scrubHeaderPairs(scrubber: Scrubber, headers: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < headers.length; i += 2) out.push(headers[i] ?? "", scrubber.header(headers[i] ?? "", headers[i + 1] ?? ""));
  return out;
}

/**
 * A Transform that scrubs one body (or one direction of a WebSocket, `frames`). What it holds
 * back as a possible start of a secret goes on once the upstream is quiet (core/quiet.ts).
 */
export function scrubbingTransform(scrubber: Scrubber, frames = false): Transform {
  const ws = frames ? new WebSocketScrubber(scrubber) : null;
  const stream = frames ? null : scrubber.stream(true);
  const quiet = new QuietTimer(() => {
    const held = ws !== null ? ws.flush() : stream?.flush();
    if (held !== undefined && held.length > 0 && !transform.destroyed) transform.push(held);
  });
  const transform: Transform = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      quiet.cancel();
      try {
        callback(null, ws !== null ? ws.push(chunk) : stream?.push(chunk));
      } catch (error) {
        return callback(error as Error);
      }
      if (ws?.holding === true || stream?.holding === true) quiet.arm();
    },
    flush(callback) {
      quiet.cancel();
      callback(null, stream?.end());
    },
  });
  transform.once("close", () => quiet.cancel());
  return transform;
}

/** True when a response to `method` with `status` has a body (RFC 9112 section 6.3). */
export function responseHasBody(method: string, status: number): boolean {
  return method !== "HEAD" && status >= 200 && status !== 204 && status !== 304;
}

/** Relays an upstream response to `res` with its head and body scrubbed. */
export function relayScrubbed(upRes: http.IncomingMessage, res: http.ServerResponse, scrubber: Scrubber, method: string): void {
  const status = upRes.statusCode ?? 502;
  const hasBody = responseHasBody(method, status);
  if (hasBody && isEncoded(upRes.rawHeaders)) {
    upRes.destroy();
    return sendReply(res, new ProxyReply(502, "the upstream compressed a response that must be scrubbed, although identity was asked for"));
  }
  res.writeHead(status, scrubber.header("", upRes.statusMessage ?? ""), scrubHeaderPairs(scrubber, buildResponseHeaders(upRes.rawHeaders)));
  const body = upRes.pipe(scrubbingTransform(scrubber));
  body.pipe(res, { end: false });
  body.on("end", () => {
    const trailers = scrubHeaderPairs(scrubber, upRes.rawTrailers);
    if (trailers.length > 0) res.addTrailers(_pairs(trailers));
    res.end();
  });
  // A truncated upstream body must reach the agent as a broken response, not a short one.
  upRes.on("close", () => upRes.complete || res.destroy());
}

function _pairs(raw: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i] ?? "", raw[i + 1] ?? ""]);
  return out;
}
