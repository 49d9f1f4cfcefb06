/**
 * The tripwire scan (tripwire.ts {@link BodyScan}) of a chunked request body forwarded as its
 * framed bytes (the proxy's raw relay): the scan sees the data alone, so a value cut by a chunk
 * boundary is still caught, and the framed bytes leave in their order only as far as the data
 * before them has been cleared. Framing is trusted: the relay has validated it already.
 */
import { Buffer } from "node:buffer";
import type { BodyScan } from "./tripwire-scan.ts";

type Piece = { data: boolean; bytes: Buffer };

/** A {@link BodyScan} over the data of a chunked body; same contract (null: tripped). */
export class ChunkedBodyScan {
  private readonly scan: BodyScan;
  /** Framed bytes not yet sent, in order. */
  private readonly queue: Piece[] = [];
  /** Data bytes the scan cleared that are still in the queue. */
  private cleared = 0;
  private state: "size" | "data" | "data-end" | "trailer" = "size";
  private remaining = 0;
  private line = "";

  constructor(scan: BodyScan) {
    this.scan = scan;
  }

  /** What tripped, once push or end returned null. */
  get hit(): BodyScan["hit"] {
    return this.scan.hit;
  }

  push(raw: Buffer): Buffer | null {
    for (const piece of this._split(raw)) {
      this.queue.push(piece);
      if (!piece.data) continue;
      const out = this.scan.push(piece.bytes);
      if (out === null) return null;
      this.cleared += out.length;
    }
    return this._release(false);
  }

  /** True while data bytes are held back (and the framing behind them). */
  get holding(): boolean {
    return this.scan.holding;
  }

  /** The held-back data bytes (BodyScan.flush) and the framing behind them, once the agent went quiet. */
  flush(): Buffer {
    this.cleared += this.scan.flush().length;
    return this._release(false);
  }

  end(): Buffer | null {
    const rest = this.scan.end();
    if (rest === null) return null;
    return this._release(true);
  }

  /** The queued bytes up to the first data byte not yet cleared (all of them at the end). */
  private _release(all: boolean): Buffer {
    const out: Buffer[] = [];
    while (this.queue.length > 0) {
      const head = this.queue[0] as Piece;
      if (!head.data || all) {
        out.push(head.bytes);
        this.queue.shift();
        continue;
      }
      const take = Math.min(head.bytes.length, this.cleared);
      if (take === 0) break;
      out.push(head.bytes.subarray(0, take));
      this.cleared -= take;
      if (take === head.bytes.length) this.queue.shift();
      else this.queue[0] = { data: true, bytes: head.bytes.subarray(take) };
    }
    if (all) this.cleared = 0;
    return out.length === 1 ? (out[0] as Buffer) : Buffer.concat(out);
  }

  /** Data and framing pieces of `raw`, in order (size lines, the CRLF after data, trailers). */
  private _split(raw: Buffer): Piece[] {
    const out: Piece[] = [];
    let i = 0;
    while (i < raw.length) {
      if (this.state === "data") {
        const take = Math.min(this.remaining, raw.length - i);
        out.push({ data: true, bytes: raw.subarray(i, i + take) });
        this.remaining -= take;
        i += take;
        if (this.remaining === 0) this.state = "data-end";
        continue;
      }
      const lf = raw.indexOf(0x0a, i);
      const upTo = lf < 0 ? raw.length : lf + 1;
      // Trailer lines come after all data: scanned like it (a value may hide in a trailer field).
      out.push({ data: this.state === "trailer", bytes: raw.subarray(i, upTo) });
      if (this.state === "size") this.line += raw.toString("latin1", i, upTo);
      i = upTo;
      if (lf < 0) continue;
      if (this.state === "data-end") this.state = "size";
      else if (this.state === "size") {
        this.remaining = Number.parseInt(this.line, 16);
        this.state = this.remaining > 0 ? "data" : "trailer";
      }
      this.line = "";
    }
    return out;
  }
}
