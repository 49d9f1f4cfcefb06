/**
 * Echoing routes for the scrubbing tests (issue 10): what an httpbin-style provider does with
 * the credential it received, in every place a response can carry it. The credential echoed is
 * the request's `Authorization` value after its scheme, or the query's `api_key`/`key`.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import type http from "node:http";
import type { Duplex } from "node:stream";
import { gzipSync } from "node:zlib";

/** The credential the request carried (header after its scheme, else a query key). */
function received(req: http.IncomingMessage, url: URL): string {
  const auth = req.headers.authorization;
  if (auth !== undefined) return auth.replace(/^\S+ /, "");
  return url.searchParams.get("api_key") ?? url.searchParams.get("key") ?? "";
}

/**
 * `/echo?in=body|header|location|cookie|split|sse|gzip|gzip-force&form=raw|base64|url|hex`:
 * answers the credential in that place and form (`sse` holds its second event until released). `split` sends it chunked, cut in its middle
 * across two chunks; `location` is a 302 to `to` (another host) keeping the credential.
 */
export function echoRoute(req: http.IncomingMessage, res: http.ServerResponse, url: URL, sse: { released: Promise<void>; started: () => void }): void {
  req.resume();
  const secret = received(req, url);
  const form = url.searchParams.get("form") ?? "raw";
  const value = form === "base64" ? Buffer.from(secret).toString("base64") : form === "url" ? encodeURIComponent(secret) : form === "hex" ? Buffer.from(secret).toString("hex") : secret;
  const where = url.searchParams.get("in") ?? "body";
  const seen = { "x-seen-accept-encoding": req.headers["accept-encoding"] ?? "" };
  if (where === "header") return void res.writeHead(200, { ...seen, "x-echo": value, "content-length": "2" }).end("ok");
  if (where === "cookie") return void res.writeHead(200, { ...seen, "set-cookie": [`echo=${value}; Path=/`, "other=1"], "content-length": "2" }).end("ok");
  if (where === "location") {
    const to = new URL(url.searchParams.get("to") ?? "https://elsewhere.invalid/");
    to.searchParams.set("api_key", value);
    return void res.writeHead(302, { location: to.href, "content-length": "0" }).end();
  }
  const body = `{"echo":"${value}"}`;
  if (where === "split") {
    const cut = 1 + Math.floor(body.indexOf(value) + value.length / 2);
    res.writeHead(200, { ...seen, "content-type": "application/json" });
    return void res.write(body.slice(0, cut), () => res.end(body.slice(cut)));
  }
  if (where === "sse") {
    res.writeHead(200, { ...seen, "content-type": "text/event-stream" });
    // The second event waits for the test's release: the first must arrive before it.
    res.write(`data: ${value}\n\n`, () => sse.started());
    return void sse.released.then(() => res.end("data: done\n\n"));
  }
  const gzip = where === "gzip-force" || (where === "gzip" && /\bgzip\b/.test(String(req.headers["accept-encoding"] ?? "")));
  if (gzip) return void res.writeHead(200, { ...seen, "content-encoding": "gzip", "content-type": "application/json" }).end(gzipSync(body));
  res.writeHead(200, { ...seen, "content-type": "application/json", "content-length": String(Buffer.byteLength(body)) });
  res.end(body);
}

/**
 * `/ws-echo`: completes the handshake, then sends the credential in a text message fragmented
 * across two frames (cut in its middle), then a close frame whose reason holds it too.
 */
export function echoWebSocket(req: http.IncomingMessage, socket: Duplex): void {
  const url = new URL(req.url ?? "/", "http://upstream.invalid");
  const secret = received(req, url);
  const key = req.headers["sec-websocket-key"] ?? "";
  const accept = createHash("sha1").update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest("base64");
  socket.on("error", () => socket.destroy());
  const text = `echo:${secret}`;
  const cut = 5 + Math.floor(secret.length / 2);
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\nX-Echo: ${secret}\r\n\r\n`);
  socket.write(Buffer.concat([frame(0x01, Buffer.from(text.slice(0, cut))), frame(0x80, Buffer.from(text.slice(cut)))]));
  socket.end(frame(0x88, Buffer.concat([Buffer.from([0x03, 0xe8]), Buffer.from(secret)])));
}

/** An unmasked frame with a payload under 126 bytes. */
export function frame(byte0: number, payload: Buffer): Buffer {
  return Buffer.concat([Buffer.from([byte0, payload.length]), payload]);
}

/** Decodes unmasked server frames: [opcode-and-fin byte, payload text] each. */
export function readFrames(data: Buffer): { byte0: number; payload: Buffer }[] {
  const out: { byte0: number; payload: Buffer }[] = [];
  let at = 0;
  while (at + 2 <= data.length) {
    let length = (data[at + 1] ?? 0) & 0x7f;
    let size = 2;
    if (length === 126) [length, size] = [data.readUInt16BE(at + 2), 4];
    out.push({ byte0: data[at] ?? 0, payload: data.subarray(at + size, at + size + length) });
    at += size + length;
  }
  return out;
}

/** A masked client frame (RFC 6455 section 5.3) with a payload under 126 bytes. */
export function maskedFrame(byte0: number, text: string): Buffer {
  const payload = Buffer.from(text);
  const mask = Buffer.from([0x11, 0x22, 0x33, 0x44]);
  const masked = Buffer.from(payload.map((b, i) => b ^ (mask[i & 3] ?? 0)));
  return Buffer.concat([Buffer.from([byte0, 0x80 | payload.length]), mask, masked]);
}

/** Reads a `/sse` response until its first event has ended; the stream must not end before. */
export async function readFirstEvent(reader: { read(): Promise<{ done: boolean; value?: Uint8Array }> }): Promise<string> {
  let text = "";
  while (!text.endsWith("\n\n")) {
    const { value, done } = await reader.read();
    assert.equal(done, false);
    text += Buffer.from(value ?? new Uint8Array()).toString();
  }
  return text;
}
