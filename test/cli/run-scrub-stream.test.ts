/**
 * A scrubbed stream that waits for the agent (issue 10): the response scrubber holds back the
 * end of a piece that could begin the key, so a stream whose message ends in such bytes would
 * stall (the agent waits for the end of the message, the upstream for the agent). Through the
 * real `authsome run`, with curl (TLS relay, and the node:http forwarder for plain http), a
 * Node child's fetch and a Deno child's fetch: the upstream sends one message and sends the next
 * only once the agent, having read the whole of the first, asks for it. An upstream that pauses
 * inside the echoed key hands the agent none of it.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { runCli, type tempHome } from "../helpers/cli.ts";
import { addAcme, type HomeWithRoute, startHomeWithRoute } from "../helpers/cli-upstream.ts";
import { pingPong } from "../helpers/ping-pong.ts";
import { repoRoot } from "../helpers/spawn-runtime.ts";

const KEY = "acme-stream-key-0123456789";
let home: Awaited<ReturnType<typeof tempHome>>;
let env: Record<string, string>;
let ports = { secure: 0, plain: 0 };
let upstream: HomeWithRoute;
const { route, sentBeforeNext, expected, messages } = pingPong(KEY);

before(async () => {
  upstream = await startHomeWithRoute(route);
  ({ home, env, ports } = upstream);
  await addAcme(home.home, env, KEY, { inject: [{ host: "api.example.test" }, { host: "http://api.example.test" }] });
});
after(async () => {
  await upstream.close();
});

const run = (args: string[]) => runCli(["run", "--", ...args], { env });
let streams = 0;

/** URLs of one new stream and its `/next`. */
function stream(scheme: "https" | "http", kind: "short" | "paused"): { id: string; chat: string; next: string } {
  const id = `s${(streams += 1)}`;
  const origin = `${scheme}://api.example.test:${scheme === "https" ? ports.secure : ports.plain}`;
  return { id, chat: `${origin}/chat?id=${id}&kind=${kind}`, next: `${origin}/next?id=${id}` };
}

// Reads exactly the first message's bytes (dd reads one byte at a time, never past it), then asks for more.
const curlScript = (chat: string, next: string, n: number): string => `curl -sSN "${chat}" | { dd bs=1 count=${n} status=none; echo "|"; curl -sS -o /dev/null "${next}"; cat; }`;

for (const [scheme, kind] of [["https", "short"], ["https", "paused"], ["http", "short"], ["http", "paused"]] as const) {
  test(`curl over ${scheme}: a ${kind} message reaches the agent whole before the next is sent`, { timeout: 120_000 }, async () => {
    const s = stream(scheme, kind);
    const want = expected(kind);
    const r = await run(["sh", "-c", curlScript(s.chat, s.next, want.first.length)]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${want.first}|\n${want.rest}`);
    assert.equal(sentBeforeNext.get(s.id), messages[kind].first, "the agent asked for more after the first message only");
  });
}

// One script for both runtimes' fetch: reads the first message whole, asks for more, reads the rest.
const fetchScript = `const [chat, next, n] = globalThis.Deno ? Deno.args : process.argv.slice(1);
const reader = (await fetch(chat)).body.getReader();
const decoder = new TextDecoder();
let first = "", bytes = 0;
while (bytes < Number(n)) { const { value, done } = await reader.read(); if (done) throw new Error("ended early"); bytes += value.length; first += decoder.decode(value, { stream: true }); }
await (await fetch(next)).text();
let rest = "";
for (let c = await reader.read(); !c.done; c = await reader.read()) rest += decoder.decode(c.value, { stream: true });
console.log(JSON.stringify({ first, rest }));`;

for (const kind of ["short", "paused"] as const) {
  test(`a Node child's fetch: a ${kind} message reaches the agent whole before the next is sent`, { timeout: 120_000 }, async () => {
    const s = stream("https", kind);
    const want = expected(kind);
    const r = await run(["node", "--input-type=module", "-e", fetchScript, s.chat, s.next, String(want.first.length)]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), want);
    assert.ok(sentBeforeNext.has(s.id));
  });
}

test("a Deno child's fetch: a short message reaches the agent whole before the next is sent", { timeout: 120_000 }, async () => {
  const deno = join(repoRoot, "node_modules/.bin/deno");
  if (spawnSync(deno, ["--version"]).status !== 0) return assert.fail("deno binary missing");
  const s = stream("https", "short");
  const want = expected("short");
  const r = await run([deno, "eval", "--quiet", fetchScript, s.chat, s.next, String(want.first.length)]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), want);
  assert.ok(sentBeforeNext.has(s.id));
});
