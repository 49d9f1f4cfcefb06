/**
 * gRPC through the real `authsome run` (issue 16): a @grpc/grpc-js client (h2 only; proxy from
 * https_proxy, trust roots from GRPC_DEFAULT_SSL_ROOTS_FILE_PATH, both set by the run) calls a
 * real grpc-js server: unary, an 8 MiB message, and a ping-pong bidi stream with trailing
 * metadata. The server sees the injected `authorization`, never the agent's own.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { createCertificateAuthority, createMemoryCaStore } from "../../src/proxy/ca.ts";
import { runCli, tempHome } from "../helpers/cli.ts";
import { startGrpcUpstream, type GrpcUpstream } from "../helpers/grpc-upstream.ts";
import { repoRoot } from "../helpers/spawn-runtime.ts";

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

test("grpc-js: unary, an 8 MiB message and a ping-pong bidi stream, each with the injected authorization", async () => {
  const r = await runCli(["run", "--", "node", join(repoRoot, "test/fixtures/run/grpc-client.mjs"), `grpc.example.test:${upstream.port}`, "unary", "big", "chat"], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.ok(!r.stdout.includes(KEY), "the child never sees the key");
  const out = JSON.parse(r.stdout) as {
    unary: { authorization: string; bytes: number };
    big: { bytes: number; sha256: string };
    chat: { answers: string[]; trailers: string | null };
  };
  assert.equal(out.unary.bytes, 5);
  const big = 8 * 1024 * 1024;
  assert.deepEqual(out.big, { authorization: out.unary.authorization, bytes: big, sha256: createHash("sha256").update(Buffer.alloc(big, 0x62)).digest("hex") });
  // The server's echo of the key is scrubbed on the way back: the child sees a marker.
  assert.match(out.unary.authorization, /^(Bearer )?\[authsome:redacted\]\**$/);
  assert.equal(out.chat.answers.length, 3);
  out.chat.answers.forEach((answer, i) => assert.match(answer, new RegExp(`^(Bearer )?\\[authsome:redacted\\]\\**\\|ping-${i + 1}$`)));
  assert.equal(out.chat.trailers, "yes", "trailing metadata passed through");
  assert.deepEqual(upstream.authorizations, [`Bearer ${KEY}`, `Bearer ${KEY}`, `Bearer ${KEY}`], "the server got the injected value, not the agent's");
});
