/**
 * gRPC through the real `authsome run` (issue 16): a @grpc/grpc-js client (h2 only; proxy from
 * https_proxy, trust roots from GRPC_DEFAULT_SSL_ROOTS_FILE_PATH, both set by the run) calls a
 * real grpc-js server (a Node child): unary, a ping-pong bidi stream with trailing metadata, and
 * an 8 MiB message. The server sees the injected `authorization`, never the agent's own.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { createCertificateAuthority, createMemoryCaStore } from "../../src/proxy/ca.ts";
import { runCli, tempHome } from "../helpers/cli.ts";
import { startGrpcUpstream, type GrpcUpstream } from "../helpers/grpc-upstream.ts";
import { currentRuntime, repoRoot } from "../helpers/spawn-runtime.ts";

const KEY = "acme-grpc-key-0123456789";
let home: Awaited<ReturnType<typeof tempHome>>;
let upstream: GrpcUpstream;
let env: Record<string, string>;

before(async () => {
  home = await tempHome();
  const upstreamCa = await createCertificateAuthority(createMemoryCaStore());
  upstream = await startGrpcUpstream(upstreamCa, "grpc.example.test");
  const caFile = join(home.home, "upstream-ca.pem");
  await writeFile(caFile, upstreamCa.caCertPem());
  env = { ...home.env, AUTHSOME_UPSTREAM_RESOLVE: `grpc.example.test:${upstream.port}:127.0.0.1`, AUTHSOME_UPSTREAM_CA: caFile };
  const plugin = join(home.home, "acme.json");
  await writeFile(plugin, JSON.stringify({ name: "acme", authType: "api_key", inject: [{ host: "grpc.example.test" }] }));
  for (const [args, input] of [[["providers", "add", plugin], ""], [["login", "acme"], KEY]] as const) {
    const r = await runCli([...args], { env, input });
    assert.equal(r.code, 0, r.stderr);
  }
});
after(async () => {
  await upstream.close();
  await home.cleanup();
});

// The proxy on Deno offers h2 only with AUTHSOME_HTTP2=1 (src/proxy/h2-server.ts): grpc-js, an
// h2-only client, is tested through the proxy on Node.
const NO_H2 = currentRuntime() === "deno" ? "the proxy on Deno offers HTTP/1.1 only by default (a Deno 2.9 node:http2 abort; see src/proxy/h2-server.ts)" : false;

/** Runs the grpc-js client fixture under `authsome run` with these calls. */
async function grpcCalls(calls: string[]): Promise<Record<string, unknown>> {
  const r = await runCli(["run", "--", "node", join(repoRoot, "test/fixtures/run/grpc-client.mjs"), `grpc.example.test:${upstream.port}`, ...calls], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.ok(!r.stdout.includes(KEY), "the child never sees the key");
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

test("grpc-js: a unary call and a ping-pong bidi stream, each with the injected authorization", { skip: NO_H2 }, async () => {
  const before = upstream.authorizations.length;
  const out = (await grpcCalls(["unary", "chat"])) as { unary: { authorization: string; bytes: number }; chat: { answers: string[]; trailers: string | null } };
  assert.equal(out.unary.bytes, 5);
  // The server's echo of the key is scrubbed on the way back: the child sees a marker.
  assert.match(out.unary.authorization, /^(Bearer )?\[authsome:redacted\]\**$/);
  assert.equal(out.chat.answers.length, 3);
  out.chat.answers.forEach((answer, i) => assert.match(answer, new RegExp(`^(Bearer )?\\[authsome:redacted\\]\\**\\|ping-${i + 1}$`)));
  assert.equal(out.chat.trailers, "yes", "trailing metadata passed through");
  assert.deepEqual(upstream.authorizations.slice(before), [`Bearer ${KEY}`, `Bearer ${KEY}`], "the server got the injected value, not the agent's");
});


test("grpc-js: an 8 MiB message passes whole, with the injected authorization", { skip: NO_H2 }, async () => {
  const before = upstream.authorizations.length;
  const out = (await grpcCalls(["big"])) as { big: { bytes: number; sha256: string } };
  const big = 8 * 1024 * 1024;
  assert.equal(out.big.bytes, big);
  assert.equal(out.big.sha256, createHash("sha256").update(Buffer.alloc(big, 0x62)).digest("hex"));
  assert.deepEqual(upstream.authorizations.slice(before), [`Bearer ${KEY}`]);
});
