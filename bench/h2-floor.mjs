// The floor for an HTTP/2-intercepting proxy in Node on this machine (issue 16): CONNECT, TLS
// terminated with a leaf offering h2, a node:http2 server on the tunnel and one reused
// node:http2 session to the upstream, each stream forwarded with its answer piped back, with
// the proxy's windows (1 MiB per stream, 16 MiB per session) and a fixed `authorization` added,
// and nothing else: no egress decision, tripwire, scrubbing, audit or trailers (so no gRPC).
// bench/h2-ab.mjs runs it as the `floor` target with --floor.
//   node --import tsx bench/h2-floor.mjs <upstream-port> <upstream-ca-file> <host> <authorization>
import { readFileSync } from "node:fs";
import http from "node:http";
import http2 from "node:http2";
import tls from "node:tls";
import { createCertificateAuthority, createMemoryCaStore } from "../src/proxy/ca.ts";

const [port, caFile, host, authorization] = process.argv.slice(2);
const ca = await createCertificateAuthority(createMemoryCaStore());
const leaf = await ca.leafFor(host);
const serverContext = tls.createSecureContext({ cert: leaf.certPem, key: leaf.keyPem });
const settings = { enablePush: false, initialWindowSize: 1 << 20, maxConcurrentStreams: 1000 };
let upstream;
const session = () => {
  if (upstream !== undefined && !upstream.closed && !upstream.destroyed) return upstream;
  upstream = http2.connect(`https://${host}:${port}`, { maxSessionMemory: 64, settings, createConnection: () => tls.connect({ host: "127.0.0.1", port: Number(port), servername: host, ca: readFileSync(caFile, "utf8"), ALPNProtocols: ["h2"] }) });
  upstream.once("connect", () => upstream.setLocalWindowSize(16 << 20));
  upstream.on("error", () => undefined);
  return upstream;
};
const h2 = http2.createServer({ maxSessionMemory: 64, settings });
h2.on("session", (s) => {
  s.once("connect", () => s.setLocalWindowSize(16 << 20));
  s.on("error", () => s.destroy());
});
h2.on("stream", (stream, headers) => {
  stream.on("error", () => undefined);
  const up = session().request({ ":method": headers[":method"], ":path": headers[":path"], ":authority": headers[":authority"], authorization }, { endStream: stream.endAfterHeaders });
  up.on("error", () => stream.destroyed || stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR));
  if (!stream.endAfterHeaders) stream.pipe(up);
  up.on("response", (h) => {
    const out = {};
    for (const [name, value] of Object.entries(h)) if (name === ":status" || !name.startsWith(":")) out[name] = value;
    stream.respond(out);
    up.pipe(stream);
  });
});
const server = http.createServer();
server.on("connect", (_req, socket) => {
  socket.setNoDelay(true);
  socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
  const client = new tls.TLSSocket(socket, { isServer: true, secureContext: serverContext, ALPNProtocols: ["h2"] });
  client.on("error", () => client.destroy());
  client.once("secure", () => {
    // As src/proxy/h2-server.ts: a server-side TLSSocket made outside a tls.Server keeps this set.
    Object.assign(client, { secureConnecting: false });
    h2.emit("connection", client);
  });
});
server.listen(0, "127.0.0.1", () => console.log(JSON.stringify({ proxy: `http://127.0.0.1:${server.address().port}`, ca: ca.caCertPem() })));
process.stdin.resume();
process.stdin.on("end", () => process.exit(0));
