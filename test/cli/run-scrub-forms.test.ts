/**
 * Response scrubbing through the real `authsome run` (issue 10), the cases run-scrub.test.ts
 * leaves to test/proxy: the raw key in a body, Set-Cookie in every form, a key cut across two
 * chunks, compression (identity asked for; a body compressed anyway is 502), an SSE event
 * (which reaches the agent before the upstream sends the next), a WebSocket (101 head, a
 * message fragmented around the key, the close reason), and a bare-LF request inside the
 * intercepted tunnel (400, nothing reaches the upstream). Real children: curl, and a Node
 * child speaking raw TLS through the run's proxy.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { after, before, test } from "node:test";
import { redactionOf } from "../../src/core/scrub.ts";
import { cliCommand, collectOutput, runCli, tempHome } from "../helpers/cli.ts";
import { addAcme, startHomeWithUpstream } from "../helpers/cli-upstream.ts";
import { readFrames } from "../helpers/proxy-echo.ts";
import type { TestUpstream } from "../helpers/proxy-upstream.ts";
import { repoRoot } from "../helpers/spawn-runtime.ts";

const KEY = "acme-forms-key-0123456789";
let home: Awaited<ReturnType<typeof tempHome>>;
let upstream: TestUpstream;
let env: Record<string, string>;
let base: string;

before(async () => {
  ({ home, upstream, env, base } = await startHomeWithUpstream(["api"]));
  await addAcme(home.home, env, KEY, { inject: [{ host: "api.example.test" }] });
});
after(async () => {
  await upstream.close();
  await home.cleanup();
});

const encode = (form: string): string => (form === "base64" ? Buffer.from(KEY).toString("base64") : form === "url" ? encodeURIComponent(KEY) : form === "hex" ? Buffer.from(KEY).toString("hex") : KEY);
const leaks = (text: string): boolean => ["raw", "base64", "url", "hex"].some((form) => text.includes(encode(form)));
const run = (args: string[]) => runCli(["run", "--", ...args], { env });

test("curl: the raw key in a body, and Set-Cookie in raw, base64 and URL-encoded form", async () => {
  const cookies = ["raw", "base64", "url"].map((form) => `curl -sS --fail -D - -o /dev/null "${base}/echo?in=cookie&form=${form}"`).join("; ");
  const r = await run(["sh", "-c", `curl -sS --fail "${base}/echo?in=body&form=raw"; echo; ${cookies}`]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(!leaks(r.stdout), r.stdout);
  assert.ok(r.stdout.startsWith(`{"echo":"${redactionOf(KEY.length)}"}\n`), r.stdout);
  assert.equal(r.stdout.match(/set-cookie: echo=\[authsome:redacted\]; Path=\//gi)?.length, 3, r.stdout);
  assert.equal(r.stdout.match(/set-cookie: other=1/gi)?.length, 3, "other cookies are kept");
});

test("curl: a key cut across two chunks is caught; compression: identity asked, a compressed body is 502", async () => {
  const r = await run(["sh", "-c", `curl -sS --fail "${base}/echo?in=split"; echo; curl -sS --compressed -D - "${base}/echo?in=gzip"; echo; curl -sS -o /dev/null -w "%{http_code}" --compressed "${base}/echo?in=gzip-force"`]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(!leaks(r.stdout), r.stdout);
  const lines = r.stdout.split("\n");
  // The marker, or all `*` when the upstream was quiet (core/quiet.ts) between the two halves.
  assert.ok([redactionOf(KEY.length), "*".repeat(KEY.length)].map((v) => `{"echo":"${v}"}`).includes(lines[0] ?? ""), lines[0]);
  assert.match(r.stdout, /x-seen-accept-encoding: identity/i);
  assert.ok(r.stdout.includes(`\r\n\r\n{"echo":"${redactionOf(KEY.length)}"}\n`), r.stdout);
  assert.ok(r.stdout.endsWith("502"), r.stdout);
});

test("curl: an SSE event holding the key reaches the agent scrubbed, before the upstream sends the next", { timeout: 120_000 }, async () => {
  const { command, args } = cliCommand();
  const envs: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...process.env, NO_COLOR: "1", ...env })) if (v !== undefined) envs[k] = v;
  const child = spawn(command, [...args, "run", "--", "curl", "-sSN", `${base}/echo?in=sse&form=base64`], { cwd: repoRoot, env: envs, stdio: ["ignore", "pipe", "pipe"] });
  const event = `data: ${redactionOf(encode("base64").length)}\n\n`;
  let seen = "";
  // The upstream holds its second event until released: released once the agent printed the first.
  child.stdout?.on("data", (d: Buffer) => {
    seen += d.toString();
    if (seen === event) upstream.releaseSse();
  });
  const r = await collectOutput(child);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(seen, `${event}data: done\n\n`);
});

/**
 * A Node child that opens a CONNECT tunnel through the run's proxy itself (HTTPS_PROXY with
 * its credential), speaks TLS inside it (trusting the run's bundle) and prints, base64, every
 * byte it received after writing `request`.
 */
const rawTlsScript = `import net from "node:net"; import tls from "node:tls"; import fs from "node:fs";
const [host, port, request] = process.argv.slice(1);
const proxy = new URL(process.env.HTTPS_PROXY);
const auth = Buffer.from(decodeURIComponent(proxy.username) + ":" + decodeURIComponent(proxy.password)).toString("base64");
const raw = net.connect(Number(proxy.port), proxy.hostname);
raw.write("CONNECT " + host + ":" + port + " HTTP/1.1\\r\\nHost: " + host + ":" + port + "\\r\\nProxy-Authorization: Basic " + auth + "\\r\\n\\r\\n");
let head = "";
const onHead = (d) => { head += d.toString("latin1"); if (!head.includes("\\r\\n\\r\\n")) return; raw.off("data", onHead); raw.pause(); inside(); };
raw.on("data", onHead);
function inside() {
  const s = tls.connect({ socket: raw, servername: host, ca: fs.readFileSync(process.env.SSL_CERT_FILE) });
  const got = [];
  const done = () => { process.stdout.write(Buffer.concat(got).toString("base64")); s.destroy(); };
  s.on("data", (c) => got.push(c)); s.on("end", done); s.on("error", done);
  s.write(request.replaceAll("\\\\n", "\\n").replaceAll("\\\\r", "\\r"));
}`;

async function rawTls(request: string): Promise<Buffer> {
  const port = new URL(base).port;
  const r = await run(["node", "--input-type=module", "-e", rawTlsScript, "api.example.test", port, request.replaceAll("\r", "\\r").replaceAll("\n", "\\n")]);
  assert.equal(r.code, 0, r.stderr);
  return Buffer.from(r.stdout, "base64");
}

test("a WebSocket in the run's tunnel: the 101 head, a message fragmented around the key and the close reason are scrubbed", async () => {
  const port = new URL(base).port;
  const key = Buffer.from("0123456789abcdef").toString("base64");
  const all = await rawTls(`GET /ws-echo HTTP/1.1\r\nHost: api.example.test:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n`);
  const split = all.indexOf("\r\n\r\n");
  const head = all.subarray(0, split).toString("latin1");
  assert.match(head, /^HTTP\/1\.1 101 /);
  assert.match(head, /X-Echo: \[authsome:redacted\]/);
  assert.equal(upstream.upgrades.at(-1)?.headers.authorization, `Bearer ${KEY}`, "the handshake got the key");
  assert.equal(upstream.upgrades.at(-1)?.headers["sec-websocket-extensions"], undefined, "no extension: frames stay readable");
  const frames = readFrames(all.subarray(split + 4));
  const text = Buffer.concat(frames.filter((f) => (f.byte0 & 0x0f) !== 8).map((f) => f.payload)).toString("latin1");
  assert.equal(text, "echo:[authsome:redacted]");
  const close = frames.find((f) => (f.byte0 & 0x0f) === 8);
  assert.ok(close !== undefined, "the close frame came through");
  assert.ok(!leaks(all.toString("latin1")), all.toString("latin1"));
});

test("a bare-LF request inside the run's intercepted tunnel is answered 400 and reaches nothing", async () => {
  const before = upstream.requests.length;
  const all = await rawTls(`GET /bare-lf HTTP/1.1\nHost: api.example.test\n\n`);
  assert.match(all.toString("latin1"), /^HTTP\/1\.1 400 /);
  assert.equal(upstream.requests.slice(before).find((q) => q.url === "/bare-lf"), undefined);
});
