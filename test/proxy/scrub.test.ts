// Response scrubbing through the proxy (issue 10): an upstream that echoes the injected
// credential in its body, headers, Location, Set-Cookie, chunks, SSE and WebSocket frames; the
// agent (curl, python3, Node fetch, raw TLS) never sees it. Both paths: intercepted HTTPS (the
// raw relay) and absolute-form http:// (the node:http forwarder).
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import net from "node:net";
import { after, before, describe, it } from "node:test";
import { ProxyAgent, fetch as undiciFetch } from "undici";
import { REDACTED, REDACTED_IN_URL, redactionOf } from "../../src/core/scrub.ts";
import { curl, proxyAuth, readUntil, run, tlsThroughProxy } from "../helpers/proxy-clients.ts";
import { startProxyFixture, type ProxyFixture } from "../helpers/proxy-fixture.ts";
import { readFirstEvent, readFrames } from "../helpers/proxy-echo.ts";

/** Every form the echo route can send, of every secret the fixture injects. */
const SECRETS = ["test-secret", "query-secret", "plain-secret"];
const leaks = (text: string): string[] =>
  SECRETS.flatMap((s) => [s, Buffer.from(s).toString("base64").slice(0, 12), Buffer.from(s).toString("hex")]).filter((form) => text.includes(form));

/** The form of `secret` the echo route sends, and what the agent gets for it (same length). */
function redactedForm(secret: string, form: string): string {
  const value = form === "base64" ? Buffer.from(secret).toString("base64") : form === "url" ? encodeURIComponent(secret) : form === "hex" ? Buffer.from(secret).toString("hex") : secret;
  return redactionOf(value.length);
}

/** The response heads curl printed with `-D -` (the CONNECT answer's too) before the body. */
const headOf = (body: string): string => body.slice(0, body.lastIndexOf("\r\n\r\n"));

describe("response scrubbing", () => {
  let fx: ProxyFixture;
  let api: string;
  before(async () => {
    fx = await startProxyFixture();
    api = `https://api.example.test:${fx.api.port}`;
  });
  after(() => fx.close());

  it("curl: the credential echoed in the body, in each form, is redacted (intercepted https)", async () => {
    for (const form of ["raw", "base64", "url", "hex"]) {
      const result = await curl(fx, `${api}/echo?in=body&form=${form}`);
      assert.equal(result.status, 200, result.stderr);
      assert.deepEqual(JSON.parse(result.body), { echo: redactedForm("test-secret", form) }, form);
      assert.equal(fx.api.requests.at(-1)?.headers.authorization, "Bearer test-secret", "the upstream still got the credential");
    }
  });

  it("curl: a header and Set-Cookie echo are redacted; other cookies kept", async () => {
    const header = await curl(fx, `${api}/echo?in=header&form=base64`, ["-D", "-"]);
    assert.match(headOf(header.body), new RegExp(`\\r\\nx-echo: ${REDACTED.replace(/[[\]]/g, "\\$&")}`, "i"));
    const cookie = await curl(fx, `${api}/echo?in=cookie&form=url`, ["-D", "-"]);
    const head = headOf(cookie.body);
    assert.match(head, /set-cookie: echo=\[authsome:redacted\]; Path=\//i);
    assert.match(head, /set-cookie: other=1/i);
    assert.deepEqual(leaks(header.body + cookie.body), []);
  });

  it("curl -L: a Location keeping the injected query key delivers no key to the other host", async () => {
    const to = `https://attacker.example.test:${fx.attacker.port}/stolen`;
    const start = `https://query.example.test:${fx.api.port}/echo?in=location&to=${encodeURIComponent(to)}`;
    const head = await curl(fx, start, ["-D", "-"]);
    assert.match(headOf(head.body), new RegExp(`location: ${to}\\?api_key=${REDACTED_IN_URL}`, "i"));
    const followed = await curl(fx, start, ["-L"]);
    assert.equal(followed.status, 200, followed.stderr);
    const stolen = fx.attacker.requests.filter((r) => r.url.startsWith("/stolen"));
    assert.ok(stolen.length > 0, "curl followed the redirect");
    for (const request of stolen) assert.deepEqual(leaks(request.url), [], request.url);
    assert.ok(stolen.some((r) => r.url === `/stolen?api_key=${REDACTED_IN_URL}`));
  });

  it("a secret cut across two chunks is still caught; framing and lengths are kept", async () => {
    const result = await curl(fx, `${api}/echo?in=split`, ["-D", "-"]);
    assert.equal(result.status, 200, result.stderr);
    assert.match(headOf(result.body), /transfer-encoding: chunked/i);
    assert.equal(result.body.slice(result.body.lastIndexOf("\r\n\r\n") + 4), `{"echo":"${redactedForm("test-secret", "raw")}"}`);
    // Markers have the secret's length, so the upstream's Content-Length stays right.
    const whole = await curl(fx, `${api}/echo?in=body&form=hex`, ["-D", "-"]);
    const body = `{"echo":"${redactedForm("test-secret", "hex")}"}`;
    assert.ok(whole.body.endsWith(`\r\n\r\n${body}`), whole.body);
    assert.match(headOf(whole.body), new RegExp(`content-length: ${body.length}\r`, "i"));
    assert.ok(body.includes(REDACTED));
  });

  it("compression: identity is asked for; a body compressed anyway is refused, never passed on", async () => {
    const asked = await curl(fx, `${api}/echo?in=gzip`, ["--compressed", "-D", "-"]);
    assert.match(headOf(asked.body), /x-seen-accept-encoding: identity/i);
    assert.ok(asked.body.endsWith(`{"echo":"${redactedForm("test-secret", "raw")}"}`), asked.body);
    const forced = await curl(fx, `${api}/echo?in=gzip-force`, ["--compressed"]);
    assert.equal(forced.status, 502);
    assert.match(forced.body, /compressed/);
  });

  it("Node fetch: an SSE event holding the secret arrives redacted, and before the stream ends", async () => {
    const dispatcher = new ProxyAgent({ uri: fx.proxyUrl, requestTls: { ca: fx.bundlePem } });
    try {
      const response = await undiciFetch(`${api}/echo?in=sse&form=base64`, { dispatcher });
      assert.equal(response.headers.get("content-type"), "text/event-stream");
      const reader = response.body?.getReader();
      assert.ok(reader !== undefined);
      let text = await readFirstEvent(reader);
      const event = `data: ${redactedForm("test-secret", "base64")}\n\n`;
      assert.equal(text, event, "the first event, before the upstream sends the second");
      fx.api.releaseSse();
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) text += Buffer.from(chunk.value).toString();
      assert.equal(text, `${event}data: done\n\n`);
    } finally {
      await dispatcher.close();
    }
  });

  it("python3 urllib: body and redirect", async () => {
    const to = `https://attacker.example.test:${fx.attacker.port}/py`;
    const script = [
      "import sys, urllib.request",
      "body = urllib.request.urlopen(sys.argv[1]).read().decode()",
      "final = urllib.request.urlopen(sys.argv[2])",
      "print(body); print(final.geturl())",
    ].join("\n");
    const result = await run("python3", ["-c", script, `${api}/echo?in=body&form=url`, `https://query.example.test:${fx.api.port}/echo?in=location&to=${encodeURIComponent(to)}`], {
      HTTPS_PROXY: fx.proxyUrl, https_proxy: fx.proxyUrl, SSL_CERT_FILE: fx.bundlePath, NO_PROXY: "", no_proxy: "",
    });
    assert.equal(result.exit, 0, result.stderr);
    assert.deepEqual(leaks(result.stdout), [], result.stdout);
    assert.match(result.stdout, /\[redacted\]/);
    assert.deepEqual(leaks(fx.attacker.requests.map((r) => r.url).join(" ")), []);
  });

  it("WebSocket: a text message fragmented around the secret, the 101 head and the close reason are scrubbed", async () => {
    const secure = await tlsThroughProxy(fx, "api.example.test", fx.api.port, fx.ca.caCertPem());
    const key = randomBytes(16).toString("base64");
    const chunks: Buffer[] = [];
    secure.on("data", (chunk: Buffer) => chunks.push(chunk));
    const ended = new Promise<void>((resolve) => secure.once("end", resolve));
    secure.write(`GET /ws-echo HTTP/1.1\r\nHost: api.example.test:${fx.api.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n`);
    await ended;
    secure.destroy();
    const all = Buffer.concat(chunks);
    const split = all.indexOf("\r\n\r\n");
    const head = all.subarray(0, split).toString("latin1");
    assert.match(head, /^HTTP\/1\.1 101 /);
    assert.match(head, /X-Echo: \[authsome:redacted\]/);
    const frames = readFrames(all.subarray(split + 4));
    const message = Buffer.concat(frames.filter((f) => (f.byte0 & 0x0f) < 8).map((f) => f.payload)).toString();
    assert.equal(message, `echo:${REDACTED}`);
    assert.equal(((frames.filter((f) => (f.byte0 & 0x0f) < 8).at(-1)?.byte0 ?? 0) & 0x80), 0x80, "the message ends with a FIN frame");
    const close = frames.find((f) => (f.byte0 & 0x0f) === 8);
    assert.equal(close?.payload.subarray(2).toString(), REDACTED);
    assert.equal(close?.payload.readUInt16BE(0), 1000);
    assert.deepEqual(leaks(all.toString("latin1")), []);
    assert.equal(fx.api.upgrades.at(-1)?.headers["sec-websocket-extensions"], undefined, "no compression was offered upstream");
  });

  it("plain http:// (node:http forwarder): body, split chunks, header and ws:// are scrubbed", async () => {
    const plain = `http://plain.example.test:${fx.plain.port}`;
    for (const where of ["body", "split"]) {
      const result = await curl(fx, `${plain}/echo?in=${where}&form=base64`);
      assert.equal(result.status, 200, result.stderr);
      assert.equal(result.body, `{"echo":"${redactedForm("plain-secret", "base64")}"}`, where);
    }
    const header = await curl(fx, `${plain}/echo?in=header`, ["-D", "-"]);
    assert.match(headOf(header.body), /x-echo: \[authsome:redacted\]/i);
    const socket = net.connect(fx.port, "127.0.0.1");
    const chunks: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    const ended = new Promise<void>((resolve) => socket.once("close", () => resolve()));
    socket.write(`GET ${plain}/ws-echo HTTP/1.1\r\nHost: plain.example.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString("base64")}\r\nSec-WebSocket-Version: 13\r\n${proxyAuth(fx)}\r\n\r\n`);
    await readUntil(socket, "\r\n\r\n");
    await ended;
    const all = Buffer.concat(chunks);
    const frames = readFrames(all.subarray(all.indexOf("\r\n\r\n") + 4));
    assert.equal(Buffer.concat(frames.filter((f) => (f.byte0 & 0x0f) < 8).map((f) => f.payload)).toString(), `echo:${REDACTED}`);
    assert.deepEqual(leaks(all.toString("latin1")), []);
  });

  it("a rule with scrub: false passes the echo on as it is", async () => {
    const result = await curl(fx, `https://keys.example.test:${fx.api.port}/echo?in=body`);
    assert.deepEqual(JSON.parse(result.body), { echo: "keys-secret" });
  });
});
