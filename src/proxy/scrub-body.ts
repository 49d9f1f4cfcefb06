/**
 * Response scrubbing on the raw relay (relay.ts). Headers are rebuilt only when one holds a
 * secret (or must be stripped); bodies are scrubbed in place with markers of the secret's own
 * length (core/scrub.ts `redactionOf`), so `Content-Length`, chunk sizes and trailers stay
 * exactly right and a body without a secret leaves byte for byte as it came. The relay keeps
 * finding where a body ends (http1.ts); {@link FramedScrubber} only rewrites the data bytes,
 * holding back at most a possible secret prefix (with any framing bytes behind it).
 *
 * Compressed bodies: injected requests ask for `Accept-Encoding: identity` (see
 * {@link scrubRequestHeaders}), so no CPU goes to inflating and deflating again and no
 * decompression bomb can be sent; an upstream that compresses anyway is answered 502, never
 * passed on unscanned.
 */
import { Buffer } from "node:buffer";
import type { Scrubber, StreamScrubber } from "../core/scrub.ts";
import { ProxyReply } from "./forward.ts";
import type { BodyFraming } from "./http1.ts";

/**
 * The request headers of an injected request whose answer is scrubbed: `Accept-Encoding:
 * identity`, and no `Sec-WebSocket-Extensions` (permessage-deflate frames could not be scanned).
 */
export function scrubRequestHeaders(headers: readonly string[]): string[] {
  const out: string[] = [];
  let asked = false;
  for (let i = 0; i < headers.length; i += 2) {
    const lower = (headers[i] ?? "").toLowerCase();
    if (lower === "sec-websocket-extensions" || (lower === "accept-encoding" && asked)) continue;
    // In the agent's own place (else after Host): the injected headers stay last.
    if (lower === "accept-encoding") asked = true;
    out.push(headers[i] ?? "", lower === "accept-encoding" ? "identity" : (headers[i + 1] ?? ""));
  }
  if (!asked) out.splice(out[0]?.toLowerCase() === "host" ? 2 : 0, 0, "Accept-Encoding", "identity");
  return out;
}

/** True when a response carries a content coding other than identity. */
export function isEncoded(rawHeaders: readonly string[]): boolean {
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if ((rawHeaders[i] ?? "").toLowerCase() !== "content-encoding") continue;
    if ((rawHeaders[i + 1] ?? "").split(",").some((c) => c.trim() !== "" && c.trim().toLowerCase() !== "identity")) return true;
  }
  return false;
}

/**
 * The response head for the agent with every value scrubbed and authsome's headers dropped,
 * or null when nothing in it changes (the original bytes go out). Throws 502 for a compressed
 * body.
 */
export function scrubResponseHead(scrubber: Scrubber, statusLine: string, rawHeaders: readonly string[], framing: BodyFraming): string | null {
  if (!(framing.kind === "length" && framing.length === 0) && isEncoded(rawHeaders)) {
    throw new ProxyReply(502, "the upstream compressed a response that must be scrubbed, although identity was asked for");
  }
  let changed = false;
  let text = scrubber.header("", statusLine);
  if (text !== statusLine) changed = true;
  text += "\r\n";
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] ?? "";
    const lower = name.toLowerCase();
    if (lower.startsWith("proxy-") || lower.startsWith("x-authsome-")) {
      changed = true;
      continue;
    }
    const value = rawHeaders[i + 1] ?? "";
    const scrubbed = scrubber.header(name, value);
    if (scrubbed !== value) changed = true;
    text += `${name}: ${scrubbed}\r\n`;
  }
  return changed ? `${text}\r\n` : null;
}

/**
 * Scrubs a body's data bytes in place as the relay passes the body on: `push` takes the
 * body's bytes as framed on the wire (chunk lines included) and returns what may go out now;
 * `end` the rest, once the relay saw the body end.
 */
export class FramedScrubber {
  private readonly stream: StreamScrubber;
  private readonly scrubber: Scrubber;
  private readonly chunks: ChunkSplitter | null;
  /** Data bytes given to the scrubber, and passed on (the difference is held back). */
  private dataIn = 0;
  private dataOut = 0;
  /** Framing bytes waiting behind held-back data: [data offset they follow, bytes]. */
  private frames: [number, Buffer][] = [];

  constructor(scrubber: Scrubber, framing: BodyFraming) {
    this.scrubber = scrubber;
    this.stream = scrubber.stream(true);
    this.chunks = framing.kind === "chunked" ? new ChunkSplitter() : null;
  }

  push(bytes: Buffer): Buffer {
    if (this.chunks === null) return this._data(bytes);
    const out: Buffer[] = [];
    for (const [kind, piece] of this.chunks.split(bytes)) {
      if (kind === "data") out.push(this._data(piece));
      else if (this.dataOut === this.dataIn && this.frames.length === 0) out.push(kind === "trailer" ? this._trailer(piece) : piece);
      else this.frames.push([this.dataIn, kind === "trailer" ? this._trailer(piece) : piece]);
    }
    return out.length === 1 ? (out[0] ?? Buffer.alloc(0)) : Buffer.concat(out);
  }

  end(): Buffer {
    const rest = this.stream.end();
    return this._interleave(rest);
  }

  /** True while data bytes (and any framing behind them) are held back. */
  get holding(): boolean {
    return this.stream.holding;
  }

  /** What is held back, with the framing behind it, once the upstream went quiet (core/quiet.ts). */
  flush(): Buffer {
    return this._interleave(this.stream.flush());
  }

  private _data(piece: Buffer): Buffer {
    this.dataIn += piece.length;
    return this._interleave(this.stream.push(piece));
  }

  /** Scrubbed data (same length as what it replaces) with the framing bytes queued between. */
  private _interleave(data: Buffer): Buffer {
    if (this.frames.length === 0) {
      this.dataOut += data.length;
      return data;
    }
    const out: Buffer[] = [];
    let at = 0;
    while (this.frames.length > 0) {
      const [offset, bytes] = this.frames[0] ?? [0, Buffer.alloc(0)];
      if (offset > this.dataOut + data.length) break;
      out.push(data.subarray(at, at + offset - this.dataOut), bytes);
      at += offset - this.dataOut;
      this.dataOut = offset;
      this.frames.shift();
    }
    out.push(data.subarray(at));
    this.dataOut += data.length - at;
    return Buffer.concat(out);
  }

  private _trailer(piece: Buffer): Buffer {
    const text = piece.toString("latin1");
    const scrubbed = this.scrubber.header("", text);
    return scrubbed === text ? piece : Buffer.from(scrubbed, "latin1");
  }
}

/**
 * Tells data bytes from framing bytes in a chunked body the relay has already validated (its
 * ChunkedScanner throws on malformed framing first): size lines, the CRLF after data, and
 * the trailer section (kept as its own kind, to be scrubbed like headers).
 */
class ChunkSplitter {
  private state: "size" | "data" | "data-end" | "trailer" = "size";
  private remaining = 0;
  private line = "";
  /** A trailer line so far: emitted whole, so a secret split across reads is still found in it. */
  private trailer: Buffer | null = null;

  split(bytes: Buffer): ["data" | "frame" | "trailer", Buffer][] {
    const out: ["data" | "frame" | "trailer", Buffer][] = [];
    let i = 0;
    while (i < bytes.length) {
      if (this.state === "data") {
        const take = Math.min(this.remaining, bytes.length - i);
        out.push(["data", bytes.subarray(i, i + take)]);
        this.remaining -= take;
        i += take;
        if (this.remaining === 0) this.state = "data-end";
        continue;
      }
      const lf = bytes.indexOf(0x0a, i);
      const upTo = lf < 0 ? bytes.length : lf + 1;
      if (this.state === "trailer") {
        const part = bytes.subarray(i, upTo);
        this.trailer = this.trailer === null ? Buffer.from(part) : Buffer.concat([this.trailer, part]);
        i = upTo;
        if (lf >= 0) out.push(["trailer", this.trailer]), (this.trailer = null);
        continue;
      }
      out.push(["frame", bytes.subarray(i, upTo)]);
      if (this.state === "size") this.line += bytes.toString("latin1", i, upTo);
      i = upTo;
      if (lf >= 0) this._lineEnd();
    }
    return out;
  }

  private _lineEnd(): void {
    if (this.state === "data-end") this.state = "size";
    else if (this.state === "size") {
      this.remaining = Number.parseInt(this.line, 16);
      this.state = this.remaining > 0 ? "data" : "trailer";
    }
    this.line = "";
  }
}
