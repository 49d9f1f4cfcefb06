// The benchmarks' HTTPS upstream, run as its own process so its CPU is not the load
// generator's: keep-alive, a certificate per SNI name from a fresh CA (written to argv[2]),
// `/small` (a short JSON answer saying whether the expected credential arrived) and `/big`
// (1 MiB from a buffer made once, with Content-Length).
//   node --import tsx bench/upstream.mjs <ca-file> [expected-authorization] [names,...]
// Certificates for the listed names are made before listening (so that bench/tls measures the
// proxy's certificates, not this server's). Prints `{"port":N}` once listening; exits when
// stdin closes.
import { writeFileSync } from "node:fs";
import https from "node:https";
import tls from "node:tls";
import { createCertificateAuthority, createMemoryCaStore } from "../src/proxy/ca.ts";

const [caFile, expected = "", names = ""] = process.argv.slice(2);
const ca = await createCertificateAuthority(createMemoryCaStore());
writeFileSync(caFile, ca.caCertPem());
const contexts = new Map();
const BIG = Buffer.alloc(1 << 20, 0x61);
const contextFor = (name) => {
  let context = contexts.get(name);
  if (context === undefined) {
    context = ca.leafFor(name).then((leaf) => tls.createSecureContext({ cert: leaf.certPem, key: leaf.keyPem }));
    contexts.set(name, context);
  }
  return context;
};
await Promise.all(names.split(",").filter(Boolean).map(contextFor));

const server = https.createServer({
  keepAliveTimeout: 60_000,
  requestTimeout: 0,
  SNICallback(name, done) {
    contextFor(name).then((c) => done(null, c), done);
  },
});
server.on("request", (req, res) => {
  req.resume();
  if (req.url === "/big") {
    res.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(BIG.length) });
    return void res.end(BIG);
  }
  const body = JSON.stringify({ ok: true, injected: req.headers.authorization === expected });
  res.writeHead(200, { "content-type": "application/json", "content-length": String(Buffer.byteLength(body)) });
  res.end(body);
});
server.listen(0, "127.0.0.1", () => console.log(JSON.stringify({ port: server.address().port })));
process.stdin.resume();
process.stdin.on("end", () => process.exit(0));
