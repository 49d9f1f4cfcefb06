/**
 * HTTP/2 bodies for h2-stream.ts: the request body through its tripwire scan, the answer's body
 * through the scrubber, both streamed with backpressure; what either holds back as a possible
 * start of a value goes out once the sender has gone quiet (core/quiet.ts). A signed request's body
 * is read whole instead (readWhole).
 */
import type http2 from "node:http2";
// Node's timers on both runtimes (as core/quiet.ts).
import { clearImmediate, setImmediate } from "node:timers";
import { QuietTimer } from "../core/quiet.ts";
import type { StreamScrubber } from "../core/scrub.ts";
import { BODY_TOO_LARGE, MAX_SIGNED_BODY } from "../core/sign.ts";
import type { BodyScan } from "../core/tripwire.ts";
import { ProxyReply } from "./request.ts";

/**
 * The answer to the agent once its head is ready: body and trailers. node:http2 must be told at
 * `respond()` whether trailers follow, and "maybe" (`waitForTrailers`) costs a second send pass
 * and an empty DATA frame to end every answer that had none. A small answer usually arrives
 * whole with its head (HEADERS, DATA, END_STREAM in one read), so the head waits until the
 * upstream stream ends or the event loop turns, whichever is first: a whole answer goes out as
 * HEADERS and DATA with END_STREAM (trailers after them when it had some), one still coming is
 * streamed as it comes, trailers awaited (so is one past {@link HOLD_MAX}). `wait`: false for an
 * answer known to end in trailers (gRPC: its messages and trailers come in writes of their own)
 * or to be longer than HOLD_MAX, streamed at once.
 * `scrubber`: the body's, or null to pass it as it is. Returns `release`: the head and what came
 * so far, sent now (the upstream stream closed first).
 */
export function relayAnswer(up: http2.ClientHttp2Stream, stream: http2.ServerHttp2Stream, head: http2.OutgoingHttpHeaders, wait: boolean, scrubber: StreamScrubber | null, trailersOf: (trailers: http2.IncomingHttpHeaders) => http2.OutgoingHttpHeaders): () => void {
  const answer = new _Answer(up, stream, head, scrubber, trailersOf);
  if (!wait) {
    answer.stream([], true);
    return _nothing;
  }
  let held: Buffer[] | null = [];
  let bytes = 0;
  const hold = (chunk: Buffer): void => {
    held?.push(chunk);
    // More than an agent's first window: streamed now, with backpressure up to the server again.
    if ((bytes += chunk.length) > HOLD_MAX) answer.stream(take(), true);
  };
  const take = (): Buffer[] | null => {
    const parts = held;
    held = null;
    clearImmediate(turn);
    up.off("data", hold);
    up.off("end", whole);
    return parts === null || stream.closed || stream.destroyed ? null : parts;
  };
  const whole = (): void => answer.whole(take());
  up.on("data", hold);
  up.once("end", whole);
  const turn = setImmediate(() => answer.stream(take(), true));
  return () => answer.stream(take(), false);
}

const _nothing = (): void => undefined;

/**
 * The most of an answer held back for its end (HTTP/2's default stream window, what an agent
 * takes in before its first WINDOW_UPDATE): a larger one goes out as it comes, paced by the
 * agent, so the upstream is paced too instead of the proxy buffering it.
 */
export const HOLD_MAX = 64 * 1024;

/** An answer's body and trailers once the head goes out (see {@link relayAnswer}). */
class _Answer {
  private trailers: http2.IncomingHttpHeaders | null = null;
  private readonly up: http2.ClientHttp2Stream;
  private readonly agent: http2.ServerHttp2Stream;
  private readonly head: http2.OutgoingHttpHeaders;
  private readonly scrubber: StreamScrubber | null;
  private readonly trailersOf: (trailers: http2.IncomingHttpHeaders) => http2.OutgoingHttpHeaders;

  constructor(up: http2.ClientHttp2Stream, agent: http2.ServerHttp2Stream, head: http2.OutgoingHttpHeaders, scrubber: StreamScrubber | null, trailersOf: (trailers: http2.IncomingHttpHeaders) => http2.OutgoingHttpHeaders) {
    this.up = up;
    this.agent = agent;
    this.head = head;
    this.scrubber = scrubber;
    this.trailersOf = trailersOf;
    up.on("trailers", (trailers: http2.IncomingHttpHeaders) => (this.trailers = trailers));
  }

  /**
   * The whole answer came (`parts`; null: nothing to send): its last DATA frame ends the stream,
   * unless trailers follow. Written piece by piece, never joined (a 1 MiB answer can come whole
   * in one turn of the loop, and copies of it cost more than the frames saved).
   */
  whole(parts: Buffer[] | null): void {
    if (parts === null) return;
    const agent = this.agent;
    if (this.trailers !== null) this._awaitTrailers();
    else if (parts.length === 0) return void agent.respond(this.head, { endStream: true });
    else agent.respond(this.head);
    this._write(parts);
    const rest = this.scrubber?.end();
    if (rest !== undefined && rest.length > 0) agent.end(rest);
    else agent.end();
  }

  /** The head, then `parts` (what came so far; null: nothing to send), then the rest as it comes when `relay`. */
  stream(parts: Buffer[] | null, relay: boolean): void {
    if (parts === null) return;
    const agent = this._awaitTrailers();
    if (!relay) return this._write(parts);
    if (this.scrubber !== null) return relayScrubbed(this.up, agent, this.scrubber, parts);
    this._write(parts);
    this.up.pipe(agent);
  }

  /** Pieces to the agent, through the scrubber when there is one (what it holds back stays held). */
  private _write(parts: readonly Buffer[]): void {
    for (const part of parts) {
      const out = this.scrubber === null ? part : this.scrubber.push(part);
      if (out.length > 0) this.agent.write(out);
    }
  }

  /** Responds with trailers to follow: the upstream's (scrubbed), or none, which node:http2 sends as an empty DATA frame. */
  private _awaitTrailers(): http2.ServerHttp2Stream {
    this.agent.respond(this.head, { waitForTrailers: true });
    this.agent.once("wantTrailers", () => this.agent.sendTrailers(this.trailers === null ? {} : this.trailersOf(this.trailers)));
    return this.agent;
  }
}

/**
 * The answer's body, scrubbed in place (same length) on its way to the agent, with backpressure
 * (no Transform in between: a stream object per answer is most of what scrubbing costs here).
 * `first`: pieces that came before the relay started.
 */
export function relayScrubbed(up: http2.ClientHttp2Stream, stream: http2.ServerHttp2Stream, scrubber: StreamScrubber, first: readonly Buffer[] = []): void {
  const resume = (): void => void up.resume();
  // What could begin a secret waits only while more is coming (a gRPC answer the agent waits on).
  const quiet = new QuietTimer(() => {
    const held = scrubber.flush();
    if (held.length > 0 && !stream.closed && !stream.destroyed) stream.write(held);
  });
  const onData = (chunk: Buffer): void => {
    quiet.cancel();
    const out = scrubber.push(chunk);
    if (scrubber.holding) quiet.arm();
    if (out.length > 0 && !stream.write(out)) {
      up.pause();
      stream.once("drain", resume);
    }
  };
  // Already in memory: written without waiting for drains (the next piece waits if it must).
  for (const chunk of first) {
    const out = scrubber.push(chunk);
    if (out.length > 0) stream.write(out);
  }
  if (scrubber.holding) quiet.arm();
  up.on("data", onData);
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
