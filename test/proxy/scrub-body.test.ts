// The relay's in-place body scrubber and the WebSocket frame scrubber, fed every split point.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { describe, it } from "node:test";
import { REDACTED, createScrubber, redactionOf, type Scrubber } from "../../src/core/scrub.ts";
import { FramedScrubber, scrubRequestHeaders } from "../../src/proxy/scrub-body.ts";
import { WebSocketScrubber } from "../../src/proxy/scrub-ws.ts";
import { frame, maskedFrame, readFrames } from "../helpers/proxy-echo.ts";

const SECRET = "tok-0123456789";
const scrubber = (): Scrubber => createScrubber([SECRET]) ?? assert.fail("no scrubber");

function feed(push: (b: Buffer) => Buffer, end: () => Buffer, pieces: Buffer[]): Buffer {
  return Buffer.concat([...pieces.map(push), end()]);
}

describe("FramedScrubber", () => {
  it("a chunked body keeps its framing byte for byte; the secret split across chunks is replaced, at every cut", () => {
    const data = `{"a":"${SECRET.slice(0, 5)}`;
    const rest = `${SECRET.slice(5)}","b":1}`;
    const wire = Buffer.from(`${data.length.toString(16)}\r\n${data}\r\n${rest.length.toString(16)};x=1\r\n${rest}\r\n0\r\nX-T: ${SECRET}\r\n\r\n`, "latin1");
    const marker = redactionOf(SECRET.length);
    const expected = `${data.length.toString(16)}\r\n{"a":"${marker.slice(0, 5)}\r\n${rest.length.toString(16)};x=1\r\n${marker.slice(5)}","b":1}\r\n0\r\nX-T: ${REDACTED}\r\n\r\n`;
    for (let cut = 0; cut <= wire.length; cut += 1) {
      for (const second of [cut, Math.min(wire.length, cut + 3)]) {
        const s = new FramedScrubber(scrubber(), { kind: "chunked" });
        const out = feed((b) => s.push(b), () => s.end(), [wire.subarray(0, cut), wire.subarray(cut, second), wire.subarray(second)]);
        assert.equal(out.toString("latin1"), expected, `cuts at ${cut}, ${second}`);
      }
    }
  });

  it("a length-delimited body keeps its length; without a secret it is passed on untouched", () => {
    const body = Buffer.from(`x${Buffer.from(SECRET).toString("base64")}y`);
    for (let cut = 0; cut <= body.length; cut += 1) {
      const s = new FramedScrubber(scrubber(), { kind: "length", length: body.length });
      const out = feed((b) => s.push(b), () => s.end(), [body.subarray(0, cut), body.subarray(cut)]);
      assert.equal(out.length, body.length);
      assert.ok(!out.toString().includes(Buffer.from(SECRET).toString("base64").slice(0, 10)), `cut ${cut}`);
    }
    const plain = Buffer.from("nothing to see");
    const s = new FramedScrubber(scrubber(), { kind: "length", length: plain.length });
    const out = s.push(plain);
    assert.ok(out.equals(plain) && out.buffer === plain.buffer, "the same bytes, not a copy");
  });

  it("flush (the upstream went quiet): held data and the framing behind it go out, and the secret they began is still starred", () => {
    const data = `hi ${SECRET.slice(0, 3)}`;
    const s = new FramedScrubber(scrubber(), { kind: "chunked" });
    const first = s.push(Buffer.from(`${data.length.toString(16)}\r\n${data}\r\n`, "latin1"));
    assert.ok(s.holding, "a possible start of the secret is held, with the chunk's CRLF behind it");
    const flushed = s.flush();
    assert.equal(Buffer.concat([first, flushed]).toString("latin1"), `${data.length.toString(16)}\r\n${data}\r\n`);
    assert.equal(s.holding, false);
    const rest = `${SECRET.slice(3)}!`;
    const out = Buffer.concat([s.push(Buffer.from(`${rest.length.toString(16)}\r\n${rest}\r\n0\r\n\r\n`, "latin1")), s.end()]).toString("latin1");
    assert.equal(out, `${rest.length.toString(16)}\r\n${"*".repeat(SECRET.length - 3)}!\r\n0\r\n\r\n`);
  });

  it("asks for identity in the agent's Accept-Encoding place, and drops WebSocket extensions", () => {
    assert.deepEqual(scrubRequestHeaders(["Host", "h", "accept-encoding", "gzip, br", "Sec-WebSocket-Extensions", "permessage-deflate", "authorization", "x"]), ["Host", "h", "accept-encoding", "identity", "authorization", "x"]);
    assert.deepEqual(scrubRequestHeaders(["Host", "h", "authorization", "x"]), ["Host", "h", "Accept-Encoding", "identity", "authorization", "x"]);
  });
});

describe("WebSocketScrubber", () => {
  const text = `echo:${SECRET}!`;
  const message = (out: Buffer): string => Buffer.concat(readFrames(out).filter((f) => (f.byte0 & 0x0f) < 8).map((f) => f.payload)).toString();

  it("a fragmented text message (masked or not) at every split point: scrubbed, ends with FIN", () => {
    const cut = 9;
    for (const masked of [false, true]) {
      const make = (b0: number, t: string): Buffer => (masked ? maskedFrame(b0, t) : frame(b0, Buffer.from(t)));
      const wire = Buffer.concat([make(0x01, text.slice(0, cut)), make(0x89, "ping"), make(0x80, text.slice(cut))]);
      for (let split = 0; split <= wire.length; split += 1) {
        const ws = new WebSocketScrubber(scrubber());
        const out = Buffer.concat([ws.push(wire.subarray(0, split)), ws.push(wire.subarray(split))]);
        const frames = readFrames(out);
        assert.equal(message(out), `echo:${REDACTED}!`, `masked ${masked}, split ${split}`);
        assert.equal((frames.filter((f) => (f.byte0 & 0x0f) < 8).at(-1)?.byte0 ?? 0) & 0x80, 0x80);
        assert.equal((frames[0]?.byte0 ?? 0) & 0x0f, 1, "the first fragment keeps the text opcode");
        assert.ok(frames.some((f) => f.byte0 === 0x89 && f.payload.toString() === "ping"), "the ping passes between fragments");
      }
    }
  });

  it("flush (the server went quiet inside a fragmented message): the held bytes leave as a fragment, the rest is starred", () => {
    const ws = new WebSocketScrubber(scrubber());
    const first = ws.push(frame(0x01, Buffer.from(`echo:${SECRET.slice(0, 4)}`)));
    assert.ok(ws.holding);
    const flushed = ws.flush();
    assert.equal(ws.holding, false);
    const last = ws.push(frame(0x80, Buffer.from(`${SECRET.slice(4)}!`)));
    const out = Buffer.concat([first, flushed, last]);
    assert.equal(message(out), `echo:${SECRET.slice(0, 4)}${"*".repeat(SECRET.length - 4)}!`);
    const frames = readFrames(out);
    assert.equal((frames[0]?.byte0 ?? 0) & 0x0f, 1, "the first fragment keeps the text opcode");
    assert.deepEqual(frames.map((f) => f.byte0 & 0x80), [...frames.slice(1).map(() => 0), 0x80], "only the last fragment has FIN");
  });

  it("an unfragmented frame without a secret leaves as the same bytes; an extension bit is refused", () => {
    const ws = new WebSocketScrubber(scrubber());
    const plain = frame(0x81, Buffer.from("hello"));
    assert.deepEqual(ws.push(plain), plain);
    assert.throws(() => new WebSocketScrubber(scrubber()).push(frame(0xc1, Buffer.from("x"))), /extension/);
  });
});
