/**
 * When held-back bytes go on. The response scrubber (scrub.ts) and the request tripwire
 * (tripwire.ts) hold back the end of a piece that could begin a secret, so that one split
 * across pieces is still caught. A stream that waits for the other side (SSE, long-poll, a chat
 * reply, a bidi upload) would never see those bytes: after {@link QUIET_MS} without more, the
 * transport flushes them (they stay in view, see `StreamScrubber.flush`).
 *
 * A timer, not the next macrotask: the TLS records of one upstream write, or the segments of
 * one burst, can arrive a little apart, and a flush between them is exactly what lets part of
 * a secret through. Bytes that could not begin a secret are never held, so a quiet stream
 * whose pieces end in anything else (an SSE event's blank line) is not delayed at all. The
 * residual risk: an upstream that pauses longer than this inside an echoed secret hands the
 * agent its first bytes (at most 7, see `StreamScrubber.flush`).
 */

/** How long a sender may be quiet before held-back bytes go on, in ms. */
export const QUIET_MS = 10;

/** A re-armable one-shot timer: `arm` after a piece leaves bytes held, `cancel` when more come. */
export class QuietTimer {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly flush: () => void;

  constructor(flush: () => void) {
    this.flush = flush;
  }

  arm(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, QUIET_MS);
  }

  cancel(): void {
    if (this.timer === undefined) return;
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
