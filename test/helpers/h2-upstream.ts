/**
 * A real HTTP/2 upstream for the h2 tests (node:http2 over TLS, certificates per SNI name from a
 * test CA, HTTP/1.1 allowed too so ALPN decides), recording every stream and session it sees.
 * Routes: `/upload` (size and SHA-256 of the body), `/big?bytes=N` (a known pattern), `/bidi`
 * (each body chunk echoed as it comes, trailers at the end), `/scoped` (403 insufficient_scope), `/echo?in=body|header|trailer`
 * (the Authorization it got, handed back), `/refuse-first?k=KEY` (401 invalid_token to the first
 * Authorization it sees for KEY and to that one again, after the whole body; any other gets the
 * size and SHA-256 of its body), `/goaway` (GOAWAY sent mid-answer), `/rst` (the
 * stream reset with ENHANCE_YOUR_CALM), `/wait` (answers once {@link H2Upstream.release} is
 * called), anything else a JSON summary of the request.
 */
import { createHash } from "node:crypto";
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import tls from "node:tls";
import type { CertificateAuthority } from "../../src/proxy/ca.ts";
import { patternBytes } from "./proxy-upstream.ts";

/** What the upstream saw of one stream. */
export interface H2Recorded {
  /** "2.0" over h2, "1.1" when the client negotiated HTTP/1.1. */
  version: string;
  method: string;
  path: string;
  authority: string;
  /** Lower-cased names, as node:http2 gives them (pseudo-headers included). */
  headers: http2.IncomingHttpHeaders;
  rawHeaders: string[];
}

export interface H2Upstream {
  port: number;
  requests: H2Recorded[];
  /** HTTP/2 sessions (connections) accepted. */
  sessions: number;
  /** Lets every waiting `/wait` stream answer. */
  release(): void;
  /** Resolves once `n` `/wait` streams are waiting. */
  waiting(n: number): Promise<void>;
  close(): Promise<void>;
}

export async function startH2Upstream(ca: CertificateAuthority): Promise<H2Upstream> {
  const server = http2.createSecureServer({
    allowHTTP1: true,
    settings: { enablePush: false, maxConcurrentStreams: 1000 },
    SNICallback: (name, callback) => {
      ca.leafFor(name).then((leaf) => callback(null, tls.createSecureContext({ cert: leaf.certPem, key: leaf.keyPem })), (error: Error) => callback(error));
    },
  });
  const sessions = new Set<http2.ServerHttp2Session>();
  let parked: (() => void)[] = [];
  let watchers: { n: number; resolve: () => void }[] = [];
  const upstream: H2Upstream = {
    port: 0,
    requests: [],
    sessions: 0,
    release: () => {
      for (const go of parked) go();
      parked = [];
    },
    waiting: (n) => new Promise((resolve) => (parked.length >= n ? resolve() : watchers.push({ n, resolve }))),
    close: () =>
      new Promise((resolve) => {
        for (const session of sessions) session.destroy();
        server.close(() => resolve());
      }),
  };
  server.on("session", (session: http2.ServerHttp2Session) => {
    upstream.sessions += 1;
    sessions.add(session);
    session.on("error", () => undefined);
    session.once("close", () => sessions.delete(session));
  });
  server.on("request", (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => {
    const headers = req.headers;
    upstream.requests.push({ version: req.httpVersion, method: req.method, path: req.url, authority: String(headers[":authority"] ?? headers.host ?? ""), headers, rawHeaders: req.rawHeaders });
    req.on("error", () => undefined);
    res.on("error", () => undefined);
    const url = new URL(req.url, "https://upstream.invalid");
    if (url.pathname === "/wait") {
      parked.push(() => _summary(req, res));
      watchers = watchers.filter((w) => (parked.length >= w.n ? (w.resolve(), false) : true));
      return;
    }
    _route(req, res, url);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  upstream.port = (server.address() as AddressInfo).port;
  return upstream;
}

function _route(req: http2.Http2ServerRequest, res: http2.Http2ServerResponse, url: URL): void {
  const stream = req.stream;
  if (url.pathname === "/upload") return _hashBody(req, res);
  if (url.pathname === "/refuse-first") return _refuseFirst(req, res, url.searchParams.get("k") ?? "");
  if (url.pathname === "/big") return _bytes(res, Number(url.searchParams.get("bytes") ?? "0"));
  if (url.pathname === "/bidi") {
    res.writeHead(200, { "content-type": "application/octet-stream" });
    res.addTrailers({ "x-done": "yes" });
    req.pipe(res);
    return;
  }
  if (url.pathname === "/echo") return _echo(req, res, url.searchParams.get("in") ?? "body");
  if (url.pathname === "/scoped") {
    req.resume();
    res.writeHead(403, { "www-authenticate": 'Bearer error="insufficient_scope", scope="admin:write"', "content-type": "text/plain" });
    return void res.end("needs admin:write");
  }
  if (url.pathname === "/rst" && stream !== undefined) return void stream.close(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
  if (url.pathname === "/goaway" && stream !== undefined) {
    req.resume();
    res.writeHead(200, { "content-type": "text/plain" });
    res.write("before-goaway;");
    // The stream in progress is below the GOAWAY's last stream id: it must still complete.
    stream.session?.goaway(http2.constants.NGHTTP2_NO_ERROR, stream.id);
    setImmediate(() => res.end("after-goaway"));
    return;
  }
  _summary(req, res);
}

function _summary(req: http2.Http2ServerRequest, res: http2.Http2ServerResponse): void {
  req.resume();
  const body = JSON.stringify({ version: req.httpVersion, path: req.url, authorization: req.headers.authorization ?? null });
  res.writeHead(200, { "content-type": "application/json", "content-length": String(Buffer.byteLength(body)) });
  res.end(body);
}

/** The Authorization header handed back in the body, a header or a trailer. */
function _echo(req: http2.Http2ServerRequest, res: http2.Http2ServerResponse, where: string): void {
  req.resume();
  const auth = String(req.headers.authorization ?? "");
  if (where === "header") res.setHeader("x-echo", auth);
  if (where === "trailer") res.addTrailers({ "x-echo": auth });
  res.writeHead(200, { "content-type": "application/json" });
  res.end(where === "body" ? JSON.stringify({ echo: auth }) : "{}");
}

const refusedTokens = new Map<string, string>();

/** 401 to the first Authorization seen for `key` (and to it again); others get their body's hash. */
function _refuseFirst(req: http2.Http2ServerRequest, res: http2.Http2ServerResponse, key: string): void {
  const auth = String(req.headers.authorization ?? "");
  if (!refusedTokens.has(key)) refusedTokens.set(key, auth);
  if (refusedTokens.get(key) !== auth) return _hashBody(req, res);
  req.resume();
  req.on("end", () => {
    res.writeHead(401, { "www-authenticate": 'Bearer error="invalid_token"', "content-type": "text/plain" });
    res.end("token refused");
  });
}

function _hashBody(req: http2.Http2ServerRequest, res: http2.Http2ServerResponse): void {
  const hash = createHash("sha256");
  let bytes = 0;
  req.on("data", (chunk: Buffer) => {
    bytes += chunk.length;
    hash.update(chunk);
  });
  req.on("end", () => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ bytes, sha256: hash.digest("hex") }));
  });
}

function _bytes(res: http2.Http2ServerResponse, total: number): void {
  res.writeHead(200, { "content-type": "application/octet-stream" });
  let sent = 0;
  const more = (): void => {
    while (sent < total) {
      const chunk = patternBytes(sent, Math.min(65_536, total - sent));
      sent += chunk.length;
      if (!res.write(chunk)) return void res.once("drain", more);
    }
    res.end();
  };
  more();
}
