/**
 * A real gRPC server (@grpc/grpc-js over TLS from a test CA) for the h2 tests, with a service
 * defined without codegen: Buffers in and out, serialised as themselves. `Unary` answers JSON
 * with the `authorization` metadata it got and the request's size and SHA-256; `Chat` (bidi)
 * answers every message at once with `<authorization>|<message>`, then trailing metadata.
 */
import { createHash } from "node:crypto";
import * as grpc from "@grpc/grpc-js";
import type { CertificateAuthority } from "../../src/proxy/ca.ts";

const asIs = (b: Buffer): Buffer => b;
const method = (path: string, requestStream: boolean, responseStream: boolean) => ({
  path, requestStream, responseStream, requestSerialize: asIs, requestDeserialize: asIs, responseSerialize: asIs, responseDeserialize: asIs,
});

/** The test service: also given to the client fixture as the same shape (test/fixtures/run/grpc-client.mjs). */
export const ECHO_SERVICE = { Unary: method("/test.Echo/Unary", false, false), Chat: method("/test.Echo/Chat", true, true) };

/** Messages up to this size pass both ways (the default limit is 4 MiB). */
const MAX_MESSAGE = 16 * 1024 * 1024;

export interface GrpcUpstream {
  port: number;
  /** The `authorization` metadata of each call, in order. */
  authorizations: string[];
  close(): Promise<void>;
}

/** Starts the server on 127.0.0.1 with a leaf for `host` from `ca`. */
export async function startGrpcUpstream(ca: CertificateAuthority, host: string): Promise<GrpcUpstream> {
  const leaf = await ca.leafFor(host);
  const server = new grpc.Server({ "grpc.max_receive_message_length": MAX_MESSAGE, "grpc.max_send_message_length": MAX_MESSAGE });
  const upstream: GrpcUpstream = { port: 0, authorizations: [], close: () => new Promise((resolve) => server.tryShutdown(() => resolve())) };
  const auth = (metadata: grpc.Metadata): string => {
    const value = String(metadata.get("authorization")[0] ?? "");
    upstream.authorizations.push(value);
    return value;
  };
  server.addService(ECHO_SERVICE, {
    Unary(call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) {
      const authorization = auth(call.metadata);
      const sha256 = createHash("sha256").update(call.request).digest("hex");
      callback(null, Buffer.from(JSON.stringify({ authorization, bytes: call.request.length, sha256 })));
    },
    Chat(call: grpc.ServerDuplexStream<Buffer, Buffer>) {
      const authorization = auth(call.metadata);
      call.on("data", (message: Buffer) => call.write(Buffer.concat([Buffer.from(`${authorization}|`), message])));
      call.on("end", () => {
        const trailing = new grpc.Metadata();
        trailing.set("x-chat-done", "yes");
        call.end(trailing);
      });
    },
  });
  const credentials = grpc.ServerCredentials.createSsl(null, [{ private_key: Buffer.from(leaf.keyPem), cert_chain: Buffer.from(leaf.certPem) }], false);
  upstream.port = await new Promise<number>((resolve, reject) => server.bindAsync("127.0.0.1:0", credentials, (error, port) => (error === null ? resolve(port) : reject(error))));
  return upstream;
}
