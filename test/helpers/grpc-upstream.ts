/**
 * A real gRPC server (@grpc/grpc-js over TLS from a test CA) for the h2 tests, with a service
 * defined without codegen: Buffers in and out, serialised as themselves. `Unary` answers JSON
 * with the `authorization` metadata it got and the request's size and SHA-256; `Chat` (bidi)
 * answers every message at once with `<authorization>|<message>`, then trailing metadata.
 *
 * The server runs in a Node child (test/fixtures/run/grpc-server.ts) on both runtimes: grpc-js's
 * server does not complete a TLS handshake under Deno 2.9 ("HandshakePayloadTooLarge"), and the
 * tests are about the proxy, not about where the server runs.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import * as grpc from "@grpc/grpc-js";
import type { CertificateAuthority } from "../../src/proxy/ca.ts";
import { repoRoot } from "./spawn-runtime.ts";

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

/** Starts the server (a Node child) on 127.0.0.1 with a leaf for `host` from `ca`. */
export async function startGrpcUpstream(ca: CertificateAuthority, host: string): Promise<GrpcUpstream> {
  const leaf = await ca.leafFor(host);
  const dir = await mkdtemp(join(tmpdir(), "authsome-grpc-"));
  await writeFile(join(dir, "cert.pem"), leaf.certPem);
  await writeFile(join(dir, "key.pem"), leaf.keyPem);
  const child = spawn("node", ["--import", "tsx", join(repoRoot, "test/fixtures/run/grpc-server.ts"), join(dir, "cert.pem"), join(dir, "key.pem")], { cwd: repoRoot, stdio: ["pipe", "pipe", "inherit"] });
  const upstream: GrpcUpstream = {
    port: 0,
    authorizations: [],
    close: async () => {
      child.stdin.end();
      if (child.exitCode === null) await new Promise((resolve) => child.once("exit", resolve));
      await rm(dir, { recursive: true, force: true });
    },
  };
  const lines = createInterface({ input: child.stdout });
  upstream.port = await new Promise<number>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`the gRPC server exited (${code}) before listening`)));
    lines.on("line", (line) => {
      const message = JSON.parse(line) as { port?: number; authorization?: string };
      if (message.port !== undefined) resolve(message.port);
      if (message.authorization !== undefined) upstream.authorizations.push(message.authorization);
    });
  });
  return upstream;
}

/** The server itself (in the child): prints `{"port"}` once listening, then `{"authorization"}` per call. */
export async function serveGrpc(certPem: string, keyPem: string, onCall: (authorization: string) => void): Promise<{ port: number; close(): Promise<void> }> {
  const server = new grpc.Server({ "grpc.max_receive_message_length": MAX_MESSAGE, "grpc.max_send_message_length": MAX_MESSAGE });
  const auth = (metadata: grpc.Metadata): string => {
    const value = String(metadata.get("authorization")[0] ?? "");
    onCall(value);
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
  const credentials = grpc.ServerCredentials.createSsl(null, [{ private_key: Buffer.from(keyPem), cert_chain: Buffer.from(certPem) }], false);
  const port = await new Promise<number>((resolve, reject) => server.bindAsync("127.0.0.1:0", credentials, (error, bound) => (error === null ? resolve(bound) : reject(error))));
  return { port, close: () => new Promise((resolve) => server.tryShutdown(() => resolve())) };
}
