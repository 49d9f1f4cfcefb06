/**
 * Real upstream servers for the proxy tests: HTTPS (certificates per SNI name from a test CA)
 * or plain HTTP, recording every request and connection they receive.
 */
import { createHash } from "node:crypto";
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import tls from "node:tls";
import type { Duplex } from "node:stream";
import type { CertificateAuthority } from "../../src/proxy/ca.ts";
import { echoRoute, echoWebSocket } from "./proxy-echo.ts";

/** What the upstream saw of one request. */
export interface RecordedRequest {
  method: string;
  url: string;
  /** Lower-cased names, as Node parses them. */
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
  /** The SNI name the TLS client sent (HTTPS upstreams only). */
  servername: string | undefined;
}

/** A running upstream. */
export interface TestUpstream {
  port: number;
  requests: RecordedRequest[];
  upgrades: RecordedRequest[];
  /** TCP connections accepted (a blind tunnel or a forwarded request each open at least one). */
  connections: number;
  /** Lets a waiting `/sse` response send its second event and finish. */
  releaseSse(): void;
  /** Resolves when a `/sse` response has sent its first event. */
  sseStarted: Promise<void>;
  close(): Promise<void>;
}

/** Chooses the certificate for an SNI name; lets tests present wrong or untrusted ones. */
export type CertificateChooser = (servername: string) => CertificateAuthority;

/** Starts an HTTPS upstream: each SNI name gets a leaf from `choose(name)`. */
export async function startHttpsUpstream(choose: CertificateChooser): Promise<TestUpstream> {
  const server = https.createServer({
    SNICallback: (name, callback) => {
      // `mismatch.*` gets a certificate for another name, to test hostname verification.
      const certName = name.startsWith("mismatch.") ? "api.example.test" : name;
      choose(name)
        .leafFor(certName)
        .then((leaf) => callback(null, tls.createSecureContext({ cert: leaf.certPem, key: leaf.keyPem })))
        .catch((error: Error) => callback(error));
    },
  });
  return _start(server);
}

/** Starts a plain HTTP upstream. */
export function startHttpUpstream(): Promise<TestUpstream> {
  return _start(http.createServer());
}

async function _start(server: http.Server): Promise<TestUpstream> {
  let release: () => void = () => undefined;
  const released = new Promise<void>((resolve) => (release = resolve));
  let started: () => void = () => undefined;
  const sseStarted = new Promise<void>((resolve) => (started = resolve));
  const sockets = new Set<Duplex>();
  const upstream: TestUpstream = {
    port: 0,
    requests: [],
    upgrades: [],
    connections: 0,
    releaseSse: () => release(),
    sseStarted,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
  const track = (socket: Duplex): void => {
    upstream.connections += 1;
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  };
  server.on("connection", track);
  server.on("request", (req: http.IncomingMessage, res: http.ServerResponse) => {
    upstream.requests.push(_record(req));
    _route(req, res, { released, started });
  });
  server.on("upgrade", (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    upstream.upgrades.push(_record(req));
    _acceptWebSocket(req, socket, head);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  upstream.port = (server.address() as AddressInfo).port;
  return upstream;
}

function _record(req: http.IncomingMessage): RecordedRequest {
  const socket = req.socket;
  return {
    method: req.method ?? "",
    url: req.url ?? "",
    headers: req.headers,
    rawHeaders: req.rawHeaders,
    servername: socket instanceof tls.TLSSocket && typeof socket.servername === "string" ? socket.servername : undefined,
  };
}

interface SseControl {
  released: Promise<void>;
  started: () => void;
}

function _route(req: http.IncomingMessage, res: http.ServerResponse, sse: SseControl): void {
  const url = new URL(req.url ?? "/", "http://upstream.invalid");
  if (url.pathname === "/redirect") {
    res.writeHead(302, { location: url.searchParams.get("to") ?? "/", "content-length": "0" });
    return void res.end();
  }
  if (url.pathname === "/upload") return _hashBody(req, res);
  if (url.pathname.endsWith("/echo")) return echoRoute(req, res, url, sse);
  if (url.pathname === "/big") return _streamBytes(res, Number(url.searchParams.get("bytes") ?? "0"));
  if (url.pathname === "/sse") {
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    res.write("data: one\n\n", () => sse.started());
    void sse.released.then(() => res.end("data: two\n\n"));
    return;
  }
  req.resume();
  const body = JSON.stringify({ ok: true, url: req.url, host: req.headers.host ?? null });
  res.writeHead(200, { "content-type": "application/json", "content-length": String(Buffer.byteLength(body)) });
  res.end(body);
}

/** Answers with the size and SHA-256 of the request body, read as a stream. */
function _hashBody(req: http.IncomingMessage, res: http.ServerResponse): void {
  const hash = createHash("sha256");
  let bytes = 0;
  req.on("data", (chunk: Buffer) => {
    bytes += chunk.length;
    hash.update(chunk);
  });
  req.on("end", () => {
    const body = JSON.stringify({ bytes, sha256: hash.digest("hex") });
    res.writeHead(200, { "content-type": "application/json" });
    res.end(body);
  });
}

/** Writes `total` bytes of a known pattern (see {@link patternBytes}) chunk by chunk, respecting backpressure. */
function _streamBytes(res: http.ServerResponse, total: number): void {
  res.writeHead(200, { "content-type": "application/octet-stream" });
  let sent = 0;
  const writeMore = (): void => {
    while (sent < total) {
      const chunk = patternBytes(sent, Math.min(65_536, total - sent));
      sent += chunk.length;
      if (!res.write(chunk)) return void res.once("drain", writeMore);
    }
    res.end();
  };
  writeMore();
}

/** Bytes `offset .. offset+length` of the test pattern: byte i is `i * 7 mod 251`. */
export function patternBytes(offset: number, length: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i += 1) out[i] = ((offset + i) * 7) % 251;
  return out;
}

/** Completes the WebSocket handshake (RFC 6455 section 4.2.2), then echoes raw bytes. */
function _acceptWebSocket(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
  if (req.url?.startsWith("/ws-echo")) return echoWebSocket(req, socket);
  const key = req.headers["sec-websocket-key"] ?? "";
  const accept = createHash("sha1").update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest("base64");
  socket.write(
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
      `Sec-WebSocket-Accept: ${accept}\r\n\r\n`,
  );
  socket.on("error", () => socket.destroy());
  if (head.length > 0) socket.write(head);
  socket.pipe(socket);
}
