// The benchmarks' HTTP/2 and gRPC upstream (bench/proxy.mjs, issue 16), its own process:
// node:http2 over TLS (`/small`: a short JSON answer saying whether the expected credential
// arrived; `/big`: 1 MiB from one buffer) and a grpc-js server whose `Unary` method answers the
// same JSON (a service defined without codegen, Buffers as themselves). Certificates from a fresh
// CA written to argv[2].
//   node --import tsx bench/h2-upstream.mjs <ca-file> <expected-authorization> <host>
// Prints `{"port":N,"grpcPort":M}` once listening; exits when stdin closes.
import { writeFileSync } from "node:fs";
import http2 from "node:http2";
import * as grpc from "@grpc/grpc-js";
import { createCertificateAuthority, createMemoryCaStore } from "../src/proxy/ca.ts";

const [caFile, expected = "", host = "api.bench.test"] = process.argv.slice(2);
const ca = await createCertificateAuthority(createMemoryCaStore());
writeFileSync(caFile, ca.caCertPem());
const leaf = await ca.leafFor(host);
const BIG = Buffer.alloc(1 << 20, 0x61);
const answer = (authorization) => Buffer.from(JSON.stringify({ ok: true, injected: authorization === expected }));

const server = http2.createSecureServer({ cert: leaf.certPem, key: leaf.keyPem, maxSessionMemory: 1024, settings: { maxConcurrentStreams: 1000 } });
server.on("stream", (stream, headers) => {
  stream.on("error", () => undefined);
  stream.resume();
  if (headers[":path"] === "/big") {
    stream.respond({ ":status": 200, "content-type": "application/octet-stream", "content-length": BIG.length });
    return void stream.end(BIG);
  }
  const body = answer(headers.authorization);
  stream.respond({ ":status": 200, "content-type": "application/json", "content-length": body.length });
  stream.end(body);
});
server.on("sessionError", () => undefined);

const asIs = (b) => b;
const grpcServer = new grpc.Server();
grpcServer.addService(
  { Unary: { path: "/bench.Echo/Unary", requestStream: false, responseStream: false, requestSerialize: asIs, requestDeserialize: asIs, responseSerialize: asIs, responseDeserialize: asIs } },
  { Unary: (call, done) => done(null, answer(String(call.metadata.get("authorization")[0] ?? ""))) },
);
const credentials = grpc.ServerCredentials.createSsl(null, [{ private_key: Buffer.from(leaf.keyPem), cert_chain: Buffer.from(leaf.certPem) }], false);
const grpcPort = await new Promise((resolve, reject) => grpcServer.bindAsync("127.0.0.1:0", credentials, (error, port) => (error ? reject(error) : resolve(port))));
server.listen(0, "127.0.0.1", () => console.log(JSON.stringify({ port: server.address().port, grpcPort })));
process.stdin.resume();
process.stdin.on("end", () => process.exit(0));
