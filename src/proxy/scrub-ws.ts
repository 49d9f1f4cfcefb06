/**
 * Scrubbing the frames a WebSocket server sends (RFC 6455 section 5), on the relay's 101
 * tunnel. Data frames (text and binary) are scrubbed as one stream per message and never
 * buffered: each piece of payload that arrives leaves at once as a fragment of its own (an
 * intermediary may refragment a message when no extension is in use, section 5.4; injected
 * handshakes are sent without `Sec-WebSocket-Extensions`, so none is). A secret split across
 * frames or reads is still caught. Control frames (close, ping, pong: at most 125 bytes) are
 * scrubbed whole. Masked frames (which a server must not send) leave unmasked; a frame with a
 * reserved bit (an extension we cannot read) closes the connection.
 */
import { Buffer } from "node:buffer";
import type { Scrubber, StreamScrubber } from "../core/scrub.ts";

const FIN = 0x80;

/** Scrubs one direction of a WebSocket connection (server to agent). */
export class WebSocketScrubber {
  private readonly scrubber: Scrubber;
  private head: Buffer | null = null;
  /** Payload bytes left in the current data frame; -1 between frames. */
  private left = -1;
  private fin = false;
  private mask: Buffer | null = null;
  private maskAt = 0;
  private message: StreamScrubber | null = null;
  private messageOpcode = 1;
  private started = false;

  constructor(scrubber: Scrubber) {
    this.scrubber = scrubber;
  }

  /** The bytes to send the agent for `chunk`; throws on a frame that cannot be scrubbed. */
  push(chunk: Buffer): Buffer {
    const out: Buffer[] = [];
    let data = chunk;
    while (data.length > 0) {
      if (this.left > 0) {
        const take = Math.min(this.left, data.length);
        this.left -= take;
        this._payload(data.subarray(0, take), out);
        data = data.subarray(take);
        continue;
      }
      const buffered = this.head === null ? data : Buffer.concat([this.head, data]);
      const parsed = _parseHeader(buffered);
      if (parsed === null) {
        this.head = Buffer.from(buffered);
        break;
      }
      this.head = null;
      data = buffered.subarray(parsed.size);
      if ((parsed.byte0 & 0x70) !== 0) throw new Error("a WebSocket frame uses an extension that cannot be scrubbed");
      const opcode = parsed.byte0 & 0x0f;
      if (opcode >= 8) {
        // Control frames are short (<= 125 bytes): wait for the whole of one.
        if (data.length < parsed.length) {
          this.head = Buffer.from(buffered);
          break;
        }
        out.push(this._control(opcode, _unmask(data.subarray(0, parsed.length), parsed.mask, 0)));
        data = data.subarray(parsed.length);
        continue;
      }
      this._frameStart(opcode, parsed);
      if (this.left === 0) this._frameEnd(out);
    }
    return out.length === 1 ? (out[0] ?? Buffer.alloc(0)) : Buffer.concat(out);
  }

  /** True while a message's scrubber holds back bytes that could begin a secret. */
  get holding(): boolean {
    return this.message?.holding === true;
  }

  /** The held-back bytes as a fragment of their message, once the server went quiet (core/quiet.ts). */
  flush(): Buffer {
    const held = this.message?.flush();
    return held === undefined || held.length === 0 ? Buffer.alloc(0) : this._fragment(false, held);
  }

  private _frameStart(opcode: number, parsed: { byte0: number; length: number; mask: Buffer | null }): void {
    if (opcode !== 0 || this.message === null) {
      this.message = this.scrubber.stream();
      this.messageOpcode = opcode === 0 ? 1 : opcode;
      this.started = false;
    }
    this.fin = (parsed.byte0 & FIN) !== 0;
    this.left = parsed.length;
    this.mask = parsed.mask;
    this.maskAt = 0;
  }

  /** One piece of a data frame's payload; the frame's last piece of a message ends it (one frame, not two). */
  private _payload(piece: Buffer, out: Buffer[]): void {
    const plain = _unmask(piece, this.mask, this.maskAt);
    this.maskAt += piece.length;
    const stream = this.message;
    if (stream === null) return;
    const scrubbed = stream.push(plain);
    if (this.left === 0 && this.fin) {
      out.push(this._fragment(true, Buffer.concat([scrubbed, stream.end()])));
      this.message = null;
    } else if (scrubbed.length > 0) out.push(this._fragment(false, scrubbed));
    if (this.left === 0) this.left = -1;
  }

  /** A frame with no payload: ends the message if it is the last. */
  private _frameEnd(out: Buffer[]): void {
    this.left = -1;
    if (!this.fin) return;
    out.push(this._fragment(true, this.message?.end() ?? Buffer.alloc(0)));
    this.message = null;
  }

  private _fragment(fin: boolean, payload: Buffer): Buffer {
    const opcode = this.started ? 0 : this.messageOpcode;
    this.started = true;
    return _frame((fin ? FIN : 0) | opcode, payload);
  }

  private _control(opcode: number, payload: Buffer): Buffer {
    const stream = this.scrubber.stream();
    // A close frame's first two bytes are its status code.
    const keep = opcode === 8 ? Math.min(2, payload.length) : 0;
    const body = Buffer.concat([stream.push(payload.subarray(keep)), stream.end()]);
    return _frame(FIN | opcode, Buffer.concat([payload.subarray(0, keep), body]).subarray(0, 125));
  }
}

function _parseHeader(data: Buffer): { byte0: number; length: number; mask: Buffer | null; size: number } | null {
  if (data.length < 2) return null;
  const byte1 = data[1] ?? 0;
  let length = byte1 & 0x7f;
  let size = 2;
  if (length === 126) {
    if (data.length < 4) return null;
    length = data.readUInt16BE(2);
    size = 4;
  } else if (length === 127) {
    if (data.length < 10) return null;
    length = Number(data.readBigUInt64BE(2));
    size = 10;
  }
  const masked = (byte1 & 0x80) !== 0;
  if (masked && data.length < size + 4) return null;
  const mask = masked ? Buffer.from(data.subarray(size, size + 4)) : null;
  return { byte0: data[0] ?? 0, length, mask, size: size + (masked ? 4 : 0) };
}

function _unmask(piece: Buffer, mask: Buffer | null, at: number): Buffer {
  if (mask === null) return piece;
  const out = Buffer.allocUnsafe(piece.length);
  for (let i = 0; i < piece.length; i += 1) out[i] = (piece[i] ?? 0) ^ (mask[(at + i) & 3] ?? 0);
  return out;
}

/** An unmasked frame (server to client). */
function _frame(byte0: number, payload: Buffer): Buffer {
  const n = payload.length;
  const head = n < 126 ? Buffer.from([byte0, n]) : n < 65536 ? Buffer.from([byte0, 126, n >> 8, n & 0xff]) : Buffer.alloc(10);
  if (n >= 65536) {
    head[0] = byte0;
    head[1] = 127;
    head.writeBigUInt64BE(BigInt(n), 2);
  }
  return Buffer.concat([head, payload]);
}
