/**
 * The sign hook sandbox (src/core/plugin-sign.ts): a hook's source runs in a child of the same
 * runtime, sees only Web Crypto and encoders, gets the whole body, and is bounded in time; what
 * it returns is parsed; a hook that throws a credential does not put it in the error.
 */
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { after, test } from "node:test";
import { createHookSigner, SIGN_TIMEOUT_MS, stopSignSandbox } from "../../src/core/plugin-sign.ts";
import { AuthsomeError } from "../../src/core/errors.ts";

after(() => stopSignSandbox());

const SECRET = "hook-test-secret-0123456789";
const HMAC_HOOK = `async function sign(request, credential) {
  const enc = new TextEncoder();
  const key = await crypto.subtle.importKey("raw", enc.encode(credential.api_key), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const body = request.body === null ? "" : new TextDecoder().decode(request.body);
  const mac = await crypto.subtle.sign("HMAC", key, enc.encode(request.method + "\\n" + new URL(request.url).pathname + "\\n" + request.headers.host + "\\n" + body));
  return { headers: { "X-Signature": [...new Uint8Array(mac)].map((b) => b.toString(16).padStart(2, "0")).join("") }, query: { signed: "1" } };
}`;

const input = (body: string | null) => ({
  method: "POST",
  url: new URL("https://api.example.test/v1/orders?x=1"),
  headers: ["Host", "api.example.test", "Content-Type", "application/json"],
  body: body === null ? null : new TextEncoder().encode(body),
});

async function signWith(source: string, body: string | null = "{\"id\":1}") {
  const { signer } = createHookSigner("hooked", { source }, { api_key: SECRET });
  return signer.sign(input(body));
}

async function failure(source: string): Promise<AuthsomeError> {
  const error = await signWith(source).then(() => null, (e: unknown) => e);
  assert.ok(error instanceof AuthsomeError, `expected an AuthsomeError, got ${String(error)}`);
  assert.equal(error.code, "sign_failed");
  return error;
}

test("an HMAC hook computes the signature over method, path, host and the whole body", async () => {
  const out = await signWith(HMAC_HOOK);
  const expected = createHmac("sha256", SECRET).update("POST\n/v1/orders\napi.example.test\n{\"id\":1}").digest("hex");
  assert.deepEqual(out, { headers: { "x-signature": expected }, query: { signed: "1" } });
});

test("method shorthand and arrow functions are accepted as hooks", async () => {
  assert.deepEqual((await signWith("sign(request) { return { headers: { 'x-m': request.method } }; }")).headers, { "x-m": "POST" });
  assert.deepEqual((await signWith("(request) => ({ headers: { 'x-len': String(request.body.length) } })")).headers, { "x-len": "8" });
});

test("the plan: no body signs at once, a body is read whole, an unbounded wire body is refused", () => {
  const { signer } = createHookSigner("hooked", { source: HMAC_HOOK }, { api_key: SECRET });
  assert.equal(signer.plan({ method: "GET", headers: [], body: { present: false, length: null, readsUnknownLength: false } }), "stream");
  assert.equal(signer.plan({ method: "POST", headers: [], body: { present: true, length: 10, readsUnknownLength: false } }), "read");
  assert.equal(signer.plan({ method: "POST", headers: [], body: { present: true, length: null, readsUnknownLength: true } }), "read");
  const refused = signer.plan({ method: "POST", headers: [], body: { present: true, length: null, readsUnknownLength: false } });
  assert.equal(typeof refused === "object" ? refused.status : refused, 411);
});

test("a hook has no fetch, no process and no import", async () => {
  assert.match((await failure("async () => { await fetch('https://attacker.example/'); return {}; }")).message, /fetch is not defined/);
  assert.match((await failure("() => { process.exit(0); }")).message, /process is not defined/);
  assert.match((await failure("async () => { await import('node:fs'); return {}; }")).message, /threw/);
});

test("a hook that escapes its vm context still cannot read files (the child's permissions)", async () => {
  const escape = "async () => { const g = crypto.constructor.constructor('return globalThis')(); const fs = g.process.getBuiltinModule ? g.process.getBuiltinModule('node:fs') : null; if (fs === null) throw new Error('no builtin access'); fs.readFileSync('/etc/hostname'); return {}; }";
  const error = await failure(escape);
  assert.match(error.message, /threw: .*(ERR_ACCESS_DENIED|Access to this API has been restricted|NotCapable|Requires read access|no builtin access|permission)/i);
});

const isDeno = (globalThis as { Deno?: unknown }).Deno !== undefined;

test("on Deno a hook that escapes its vm context has no network either (the child has no permissions)", { skip: isDeno ? false : "Node 20's permission model has no network switch (docs/security.md)" }, async () => {
  const error = await failure("async () => { const g = crypto.constructor.constructor('return globalThis')(); await g.fetch('http://127.0.0.1:8080/'); return {}; }");
  assert.match(error.message, /Requires net access/);
});

test("a hook that never answers is stopped at the time limit; the next call gets a fresh sandbox", async () => {
  const started = Date.now();
  const error = await failure("() => { for (;;) {} }");
  assert.match(error.message, /did not answer within/);
  assert.ok(Date.now() - started < SIGN_TIMEOUT_MS + 3000, "bounded");
  assert.ok((await signWith(HMAC_HOOK)).headers["x-signature"]);
});

test("what a hook returns is parsed: transport headers, control characters and junk refused", async () => {
  assert.match((await failure("() => ({ headers: { host: 'evil.example' } })")).message, /reserved header name/);
  assert.match((await failure("() => ({ headers: { 'x-a': 'v\\r\\nx-b: smuggled' } })")).message, /control characters/);
  assert.match((await failure("() => 42")).message, /invalid result/);
});

test("a hook that throws its credential does not put it in the error", async () => {
  const error = await failure("(request, credential) => { throw new Error('bad key ' + credential.api_key); }");
  assert.ok(!error.message.includes(SECRET), error.message);
  assert.match(error.message, /\[redacted\]/);
});
