// The floor for any TLS-intercepting proxy in Node on this machine: CONNECT, TLS terminated with
// a leaf, one TLS connection to the upstream per tunnel, bytes piped both ways, and no HTTP work
// at all (no parsing, no injection, no audit). bench/proxy.mjs runs it as the `tls-floor` row.
//   node --import tsx bench/tls-floor.mjs <upstream-port> <upstream-ca-file> <host>
import { readFileSync } from "node:fs";
import http from "node:http";
import tls from "node:tls";
import { createCertificateAuthority, createMemoryCaStore } from "../src/proxy/ca.ts";

const [port, caFile, host] = process.argv.slice(2);
const ca = await createCertificateAuthority(createMemoryCaStore());
const leaf = await ca.leafFor(host);
const serverContext = tls.createSecureContext({ cert: leaf.certPem, key: leaf.keyPem });
const upstreamContext = tls.createSecureContext({ ca: readFileSync(caFile, "utf8") });
const server = http.createServer();
server.on("connect", (_req, socket) => {
  socket.setNoDelay(true);
  socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
  const client = new tls.TLSSocket(socket, { isServer: true, secureContext: serverContext, ALPNProtocols: ["http/1.1"] });
  const upstream = tls.connect({ host: "127.0.0.1", port: Number(port), servername: host, secureContext: upstreamContext });
  upstream.setNoDelay(true);
  client.pipe(upstream).pipe(client);
  client.on("error", () => upstream.destroy());
  upstream.on("error", () => client.destroy());
});
server.listen(0, "127.0.0.1", () => console.log(JSON.stringify({ proxy: `http://127.0.0.1:${server.address().port}`, ca: ca.caCertPem() })));
process.stdin.resume();
process.stdin.on("end", () => process.exit(0));
