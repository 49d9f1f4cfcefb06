/**
 * HTTP/2 bodies for h2-stream.ts: the request body through its tripwire scan, the answer's body
 * through the scrubber, both streamed with backpressure; what either holds back as a possible
 * start of a value goes out once the sender has gone quiet (core/quiet.ts). A signed request's body
 * is read whole instead (readWhole).
 */
import type http2 from "node:http2";
import { QuietTimer } from "../core/quiet.ts";
import type { StreamScrubber } from "../core/scrub.ts";
import { BODY_TOO_LARGE, MAX_SIGNED_BODY } from "../core/sign.ts";
import type { BodyScan } from "../core/tripwire.ts";
import { ProxyReply } from "./request.ts";

/**
 * The answer's body, scrubbed in place (same length) on its way to the agent, with backpressure
 * (no Transform in between: a stream object per answer is most of what scrubbing costs here).
 */
export function relayScrubbed(up: http2.ClientHttp2Stream, stream: http2.ServerHttp2Stream, scrubber: StreamScrubber): void {
  const resume = (): void => void up.resume();
  // What could begin a secret waits only while more is coming (a gRPC answer the agent waits on).
  const quiet = new QuietTimer(() => {
    const held = scrubber.flush();
    if (held.length > 0 && !stream.closed && !stream.destroyed) stream.write(held);
  });
  up.on("data", (chunk: Buffer) => {
    quiet.cancel();
    const out = scrubber.push(chunk);
    if (scrubber.holding) quiet.arm();
    if (out.length > 0 && !stream.write(out)) {
      up.pause();
      stream.once("drain", resume);
    }
  });
  up.once("close", () => quiet.stop());
  up.once("end", () => {
    quiet.stop();
    if (stream.closed || stream.destroyed) return;
    const rest = scrubber.end();
    if (rest.length > 0) stream.end(rest);
    else stream.end();
  });
}

/** What {@link relayBody} reports back. */
export interface BodyHooks {
  /** A needle: the scan stopped reading (nothing more goes upstream); answer 403. */
  tripped(): void;
  /** Each piece as it went upstream (after the scan), or null: nobody keeps them. */
  sent: ((chunk: Buffer) => void) | null;
  /** The agent's body ended and all of it went upstream. */
  ended(): void;
}

/**
 * The agent's body to the upstream stream, through its tripwire scan (core/tripwire.ts) when
 * there is one, with backpressure and no Transform stream in between (one per request body was
 * the largest part of what a gRPC call's body cost here). Bytes go on as they are cleared; what
 * could begin a needle is held only while more bytes are coming (core/quiet.ts).
 */
export function relayBody(stream: http2.ServerHttp2Stream, up: http2.ClientHttp2Stream, scan: BodyScan | null, hooks: BodyHooks): void {
  const resume = (): void => void stream.resume();
  const send = (out: Buffer): void => {
    if (out.length === 0 || up.destroyed) return;
    hooks.sent?.(out);
    if (!up.write(out)) {
      stream.pause();
      up.once("drain", resume);
    }
  };
  const quiet = scan === null ? null : new QuietTimer(() => send(scan.flush()));
  const stop = (): void => {
    quiet?.stop();
    stream.off("data", onData);
    stream.off("end", onEnd);
    // What the agent still sends is read and dropped, so its stream is not stuck on its window.
    stream.resume();
  };
  const onData = (chunk: Buffer): void => {
    if (scan === null) return send(chunk);
    quiet?.cancel();
    const out = scan.push(chunk);
    if (out === null) return stop(), hooks.tripped();
    send(out);
    quiet?.arm();
  };
  const onEnd = (): void => {
    quiet?.stop();
    const rest = scan === null ? null : scan.end();
    if (scan !== null && rest === null) return hooks.tripped();
    if (rest !== null) send(rest);
    hooks.ended();
    if (!up.destroyed) up.end();
  };
  stream.on("data", onData);
  stream.once("end", onEnd);
  // The upstream stream went (reset, or answered and closed): the rest of the body goes nowhere.
  up.once("close", stop);
}

/** The agent's body, read whole through `scan`; null when it tripped (the stream is left open for the 403). */
export function readWhole(stream: http2.ServerHttp2Stream, scan: BodyScan | null): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    const stop = (): void => {
      stream.pause();
      stream.removeAllListeners("data");
    };
    stream.on("data", (chunk: Buffer) => {
      const out = scan === null ? chunk : scan.push(chunk);
      if (out === null) return stop(), resolve(null);
      size += out.length;
      if (size > MAX_SIGNED_BODY) return stop(), reject(new ProxyReply(BODY_TOO_LARGE.status, BODY_TOO_LARGE.reason));
      parts.push(out);
    });
    stream.once("end", () => {
      const rest = scan === null ? Buffer.alloc(0) : scan.end();
      resolve(rest === null ? null : Buffer.concat([...parts, rest]));
    });
    stream.once("close", () => reject(new ProxyReply(400, "the request stream ended before its body")));
  });
}
