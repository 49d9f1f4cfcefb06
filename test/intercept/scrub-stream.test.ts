/**
 * A scrubbed stream that waits for the agent, in the in-process interceptor (issue 10): the
 * body scrubber holds back the end of a piece that could begin the key; once the upstream is
 * quiet it goes on, so the agent reads the whole first message and only then asks for the next
 * (the upstream sends it only then). An upstream that pauses 12 bytes into the echoed key: those
 * are starred when flushed (8 or more held), the rest when it comes.
 */
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import tls from "node:tls";
import { after, before, test } from "node:test";
import { createAuthService, type AuthService } from "../../src/core/auth-service.ts";
import { intercept } from "../../src/intercept/index.ts";
import { createCertificateAuthority, createMemoryCaStore } from "../../src/proxy/ca.ts";
import { tempHome } from "../helpers/cli.ts";
import { pingPong } from "../helpers/ping-pong.ts";

const KEY = "chat-stream-key-0123456789";
let home: Awaited<ReturnType<typeof tempHome>>;
let service: AuthService;
let server: https.Server;
let caPem: string;
let origin: string;
const { route, sentBeforeNext, expected, messages } = pingPong(KEY);

before(async () => {
  home = await tempHome();
  const ca = await createCertificateAuthority(createMemoryCaStore());
  const leaf = await ca.leafFor("localhost");
  server = https.createServer({ SNICallback: (_n, done) => done(null, tls.createSecureContext({ cert: leaf.certPem, key: leaf.keyPem })) }, route);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  origin = `https://localhost:${port}`;
  caPem = ca.caCertPem();
  const plugin = join(home.home, "chat.json");
  await writeFile(plugin, JSON.stringify({ name: "chat", authType: "api_key", inject: [{ host: `localhost:${port}` }] }));
  service = await createAuthService({ home: home.home });
  await service.installProvider(plugin);
  await service.login("chat", { apiKey: KEY });
});
after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await service.close();
  await home.cleanup();
});

/** intercept() trusting the test CA through its option (the environment is shared with the files Deno runs in parallel). */
async function withIntercept(fn: () => Promise<void>): Promise<void> {
  const restore = await intercept({ service, upstream: { extraCaPem: caPem } });
  try {
    await fn();
  } finally {
    await restore();
  }
}

for (const kind of ["short", "paused"] as const) {
  test(`a ${kind} message reaches the agent whole before the upstream sends the next`, async () => {
    const m = messages[kind];
    const want = expected(kind);
    const id = kind;
    await withIntercept(async () => {
      const res = await fetch(`${origin}/chat?id=${id}&kind=${kind}`);
      const reader = res.body?.getReader() ?? assert.fail("no body");
      let first = "";
      while (first.length < m.first.length) {
        const { value, done } = await reader.read();
        assert.equal(done, false, "the stream ended before its first message");
        first += Buffer.from(value ?? new Uint8Array()).toString("latin1");
      }
      assert.equal(sentBeforeNext.has(id), false);
      assert.equal(first, want.first);
      await (await fetch(`${origin}/next?id=${id}`)).text();
      let rest = "";
      for (let c = await reader.read(); !c.done; c = await reader.read()) rest += Buffer.from(c.value).toString("latin1");
      assert.equal(rest, want.rest);
    });
  });
}
