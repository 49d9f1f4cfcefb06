// Bodies stream both ways (5 MiB up and down, server-sent events), WebSocket handshakes get the
// credential and then carry raw bytes, and connections are reused on both sides.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import net from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ProxyAgent, fetch as undiciFetch } from "undici";
import { curl, exchange, proxyAuth, readUntil, tlsThroughProxy } from "../helpers/proxy-clients.ts";
import { SECRET, startProxyFixture, type ProxyFixture } from "../helpers/proxy-fixture.ts";
import { patternBytes } from "../helpers/proxy-upstream.ts";
import { maskedFrame } from "../helpers/proxy-echo.ts";

const FIVE_MIB = 5 * 1024 * 1024;

const sha256 = (data: Buffer): string => createHash("sha256").update(data).digest("hex");

function webSocketHandshake(path: string, host: string): string {
  const key = randomBytes(16).toString("base64");
  return `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n`;
}

describe("streaming through the proxy", () => {
  let fx: ProxyFixture;
  before(async () => {
    fx = await startProxyFixture();
  });
  after(() => fx.close());

  it("uploads 5 MiB", async () => {
    const body = randomBytes(FIVE_MIB);
    const file = join(fx.bundlePath, "..", "upload.bin");
    writeFileSync(file, body);
    const result = await curl(fx, `https://api.example.test:${fx.api.port}/upload`, ["--data-binary", `@${file}`, "-H", "Content-Type: application/octet-stream"]);
    assert.equal(result.status, 200, result.stderr);
    assert.deepEqual(JSON.parse(result.body), { bytes: FIVE_MIB, sha256: sha256(body) });
    assert.equal(fx.api.requests.at(-1)?.headers.authorization, SECRET);
    // Chunked upload (no Content-Length), over plain HTTP in absolute form.
    const chunked = await curl(fx, `http://plain.example.test:${fx.plain.port}/upload`, ["--data-binary", `@${file}`, "-H", "Transfer-Encoding: chunked"]);
    assert.deepEqual(JSON.parse(chunked.body), { bytes: FIVE_MIB, sha256: sha256(body) });
  });

  it("downloads 5 MiB", async () => {
    const file = join(fx.bundlePath, "..", "download.bin");
    const result = await curl(fx, `https://api.example.test:${fx.api.port}/big?bytes=${FIVE_MIB}`, ["-o", file]);
    assert.equal(result.status, 200, result.stderr);
    const data = readFileSync(file);
    assert.equal(data.length, FIVE_MIB);
    assert.equal(sha256(data), sha256(patternBytes(0, FIVE_MIB)));
  });

  it("server-sent events arrive as they are sent", async () => {
    const dispatcher = new ProxyAgent({ uri: fx.proxyUrl, requestTls: { ca: fx.bundlePem } });
    try {
      const response = await undiciFetch(`https://api.example.test:${fx.api.port}/sse`, { dispatcher });
      assert.equal(response.headers.get("content-type"), "text/event-stream");
      const reader = response.body?.getReader();
      assert.ok(reader !== undefined);
      let text = "";
      // The upstream holds its second event until released: the first must arrive before that.
      while (!text.includes("data: one\n\n")) {
        const { value, done } = await reader.read();
        assert.equal(done, false);
        text += Buffer.from(value ?? new Uint8Array()).toString();
      }
      assert.ok(!text.includes("two"));
      fx.api.releaseSse();
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) text += Buffer.from(chunk.value).toString();
      assert.equal(text, "data: one\n\ndata: two\n\n");
    } finally {
      await dispatcher.close();
    }
  });

  it("a WebSocket upgrade in a TLS tunnel gets the credential, then bytes flow both ways", async () => {
    const secure = await tlsThroughProxy(fx, "api.example.test", fx.api.port, fx.ca.caCertPem());
    secure.write(`${webSocketHandshake("/ws", `api.example.test:${fx.api.port}`)}X-Authsome-Connection: default\r\n\r\n`);
    const head = await readUntil(secure, "\r\n\r\n");
    assert.match(head, /^HTTP\/1\.1 101 /);
    assert.match(head, /\r\nSec-WebSocket-Accept: /i);
    const echoed = readUntil(secure, "ping-pong-bytes");
    // A real (masked) frame: the answer to an injected handshake is scrubbed frame by frame.
    secure.write(maskedFrame(0x81, "ping-pong-bytes"));
    assert.ok((await echoed).endsWith("ping-pong-bytes"));
    secure.destroy();
    const seen = fx.api.upgrades.at(-1);
    assert.equal(seen?.headers.authorization, SECRET);
    assert.equal(seen?.headers.upgrade, "websocket");
    assert.equal(seen?.headers["x-authsome-connection"], undefined);
    assert.equal(fx.events.at(-1)?.status, 101);
  });

  it("a WebSocket upgrade in absolute form (ws://) passes too", async () => {
    const socket = net.connect(fx.port, "127.0.0.1");
    const url = `http://plain.example.test:${fx.plain.port}/ws`;
    socket.write(`${webSocketHandshake(url, "plain.example.test")}${proxyAuth(fx)}\r\n\r\n`);
    const head = await readUntil(socket, "\r\n\r\n");
    assert.match(head, /^HTTP\/1\.1 101 /);
    const echoed = readUntil(socket, "hello");
    socket.write(maskedFrame(0x81, "hello"));
    await echoed;
    socket.destroy();
    assert.equal(fx.plain.upgrades.at(-1)?.headers.authorization, "Bearer plain-secret");
    assert.equal(fx.plain.upgrades.at(-1)?.headers["proxy-authorization"], undefined);
  });

  it("another upgrade (h2c) is forwarded as the plain request it also is", async () => {
    const secure = await tlsThroughProxy(fx, "api.example.test", fx.api.port, fx.ca.caCertPem());
    const answer = await exchange(secure, `GET /h2c HTTP/1.1\r\nHost: api.example.test:${fx.api.port}\r\nUpgrade: h2c\r\nConnection: Upgrade, HTTP2-Settings\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n\r\n`);
    assert.match(answer, /^HTTP\/1\.1 200 /);
    const names = (fx.api.requests.at(-1)?.rawHeaders ?? []).map((h) => h.toLowerCase());
    assert.equal(fx.api.requests.at(-1)?.url, "/h2c");
    assert.ok(!names.includes("upgrade") && !names.includes("http2-settings"));
  });

  it("reuses the client's and the upstream's connections", async () => {
    const dispatcher = new ProxyAgent({ uri: fx.proxyUrl, requestTls: { ca: fx.bundlePem } });
    try {
      await (await undiciFetch(`https://api.example.test:${fx.api.port}/warm`, { dispatcher })).text();
      const before = fx.api.connections;
      let connects = 0;
      fx.proxy.server.on("connect", () => (connects += 1));
      for (let i = 0; i < 20; i += 1) {
        const response = await undiciFetch(`https://api.example.test:${fx.api.port}/again/${i}`, { dispatcher });
        assert.equal(response.status, 200);
        await response.text();
      }
      assert.equal(fx.api.connections, before, "upstream connections were reused");
      // undici opens a second tunnel for its second request (blind tunnels too), then reuses both.
      assert.ok(connects <= 1, `the client's tunnels were reused (${connects} new CONNECTs for 20 requests)`);
    } finally {
      await dispatcher.close();
    }
  });
});
