/**
 * When held-back bytes go on. The response scrubber (scrub.ts) and the request tripwire
 * (tripwire.ts) hold back the end of a piece that could begin a secret, so that one split
 * across pieces is still caught. A stream that waits for the other side (SSE, long-poll, a chat
 * reply, a bidi upload) would never see those bytes: after {@link QUIET_MS} without more, the
 * transport flushes them (they stay in view, see `StreamScrubber.flush`).
 *
 * A timer, not the next macrotask: the TLS records of one upstream write, or the segments of
 * one burst, can arrive a little apart, and a flush between them is exactly what lets part of
 * a secret through. 50 ms, not less: on a loaded machine a process is often descheduled for
 * 10 ms between two writes (the upstream's, or the relay's own reads), and a pause that long
 * is still well under what an agent waiting on a stream notices. Bytes that could not begin a
 * secret are never held, so a stream whose pieces end in anything else (an SSE event's blank
 * line) is not delayed at all; one whose piece ends like the start of a secret waits 50 ms.
 * The residual risk: an upstream that pauses longer than this inside an echoed secret hands
 * the agent its first bytes (at most 7: a longer held prefix is starred, see
 * `StreamScrubber.flush`); an echo is usually one write, so this takes a split across a TCP
 * window (a round trip) or an upstream that means it (which has the secret anyway).
 */
// Node's timers on both runtimes: Deno's global setTimeout returns a number, without refresh().
import { clearTimeout, setImmediate, setTimeout } from "node:timers";

/** How long a sender may be quiet before held-back bytes go on, in ms. */
export const QUIET_MS = 50;

/**
 * A re-armable one-shot timer: `arm` after a piece leaves bytes held, `cancel` when more come,
 * `stop` when the stream ends. One timer per stream, re-armed with `refresh()` while pending
 * rather than a new timer per piece (a 1 MiB HTTP/2 body comes in 64 DATA frames).
 *
 * When the timer is due the flush waits for the event loop to poll I/O once more: a process
 * descheduled past the deadline wakes with the timer due *and* the sender's next bytes already
 * readable, and the event loop runs timers before it polls for I/O. Those bytes cancel it.
 */
export class QuietTimer {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private armed = false;
  /** Counts arms, so a deferred flush knows the stream was held again meanwhile. */
  private turn = 0;
  private readonly flush: () => void;

  constructor(flush: () => void) {
    this.flush = flush;
  }

  arm(): void {
    this.armed = true;
    this.turn += 1;
    if (this.timer !== undefined) this.timer.refresh();
    else this.timer = setTimeout(() => this._due(), QUIET_MS);
  }

  cancel(): void {
    this.armed = false;
  }

  stop(): void {
    this.armed = false;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private _due(): void {
    this.timer = undefined;
    if (!this.armed) return;
    const turn = this.turn;
    // One more timer turn, then an immediate: Node polls I/O before immediates; Deno polls
    // it between timer turns but not between immediates (measured, Deno 2.9).
    setTimeout(() =>
      setImmediate(() => {
        if (!this.armed || this.turn !== turn) return;
        this.armed = false;
        this.flush();
      }), 0);
  }
}
