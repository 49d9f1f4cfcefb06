/**
 * Response scrubbing in the in-process interceptor (issue 10): an echoing upstream hands the
 * injected key back in the body, headers, Set-Cookie, an SSE stream and a Location; the agent's
 * fetch sees none of it, `Response.url` never shows the injected query key, and a redirect
 * that keeps the key delivers no key to the other host.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { REDACTED, REDACTED_IN_URL, redactionOf } from "../../src/core/scrub.ts";
import { startInterceptFixture, type InterceptFixture } from "../helpers/intercept-fixture.ts";
import { readFirstEvent } from "../helpers/proxy-echo.ts";
import type { TestUpstream } from "../helpers/proxy-upstream.ts";

const KEY = "echo-key-0123456789";
let fx: InterceptFixture;
let api: TestUpstream;
let attacker: TestUpstream;
const withIntercept = (fn: () => Promise<void>): Promise<void> => fx.withIntercept(fn);

before(async () => {
  fx = await startInterceptFixture("echoer", KEY, (host) => [
    { host, pathPrefix: "/h" },
    { host, pathPrefix: "/q", in: "query", name: "api_key" },
    { host, pathPrefix: "/keys", scrub: false },
  ]);
  ({ api, attacker } = fx);
});
after(() => fx.close());

const leaked = (text: string): boolean => [KEY, Buffer.from(KEY).toString("base64").slice(0, 12), Buffer.from(KEY).toString("hex")].some((f) => text.includes(f));

test("body, header and Set-Cookie echoes are scrubbed; Content-Length stays right", async () => {
  await withIntercept(async () => {
    const base = `https://localhost:${api.port}/h/echo`;
    for (const form of ["raw", "base64", "url", "hex"]) {
      const res = await fetch(`${base}?in=body&form=${form}`);
      const text = await res.text();
      assert.ok(!leaked(text) && /\[(authsome:)?redacted\]/.test(text), `${form}: ${text}`);
      assert.equal(Number(res.headers.get("content-length")), Buffer.byteLength(text));
    }
    assert.equal(api.requests.at(-1)?.headers.authorization, `Bearer ${KEY}`, "the upstream got the key");
    const header = await fetch(`${base}?in=header&form=base64`);
    await header.text();
    assert.equal(header.headers.get("x-echo"), REDACTED);
    for (const form of ["raw", "base64", "url"]) {
      const cookie = await fetch(`${base}?in=cookie&form=${form}`);
      await cookie.text();
      assert.deepEqual(cookie.headers.getSetCookie(), [`echo=${REDACTED}; Path=/`, "other=1"], form);
    }
    const split = await fetch(`${base}?in=split`);
    // The marker, or all `*` when the upstream was quiet (core/quiet.ts) between the two halves.
    assert.ok([redactionOf(KEY.length), "*".repeat(KEY.length)].map((v) => `{"echo":"${v}"}`).includes(await split.text()));
    const gzip = await fetch(`${base}?in=gzip-force`);
    assert.equal(await gzip.text(), `{"echo":"${redactionOf(KEY.length)}"}`, "fetch decoded it; the scan saw plain bytes");
  });
});

test("an SSE event is scrubbed as it streams", async () => {
  await withIntercept(async () => {
    const res = await fetch(`https://localhost:${api.port}/h/echo?in=sse`);
    const reader = res.body?.getReader();
    assert.ok(reader !== undefined);
    let text = await readFirstEvent(reader);
    assert.equal(text, `data: ${redactionOf(KEY.length)}\n\n`, "the first event, before the upstream sends the second");
    api.releaseSse();
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) text += Buffer.from(chunk.value).toString();
    assert.ok(text.endsWith("data: done\n\n"));
  });
});

test("Response.url never shows the injected query key; a Location keeping it delivers no key", async () => {
  await withIntercept(async () => {
    const asked = `https://localhost:${api.port}/q/echo?in=body`;
    const res = await fetch(asked);
    assert.equal(res.url, asked);
    assert.ok(!leaked(await res.text()));
    assert.equal(api.requests.at(-1)?.url, `/q/echo?in=body&api_key=${KEY}`, "the upstream got the key in the query");
    const to = `https://localhost:${attacker.port}/stolen`;
    const start = `https://localhost:${api.port}/q/echo?in=location&to=${encodeURIComponent(to)}`;
    const manual = await fetch(start, { redirect: "manual" });
    assert.equal(manual.headers.get("location"), `${to}?api_key=${REDACTED_IN_URL}`);
    assert.equal(manual.url, start);
    const followed = await fetch(start);
    await followed.text();
    assert.equal(followed.status, 200);
    assert.equal(new URL(followed.url).port, String(attacker.port));
    assert.ok(!leaked(followed.url));
    const stolen = attacker.requests.filter((r) => r.url.startsWith("/stolen"));
    assert.ok(stolen.length > 0, "the redirect was followed");
    for (const r of stolen) assert.ok(!leaked(r.url), r.url);
  });
});

test("a rule with scrub: false returns the body as it is, yet its Location is still scrubbed", async () => {
  await withIntercept(async () => {
    const res = await fetch(`https://localhost:${api.port}/keys/echo?in=body`);
    assert.deepEqual(await res.json(), { echo: KEY });
    const to = `https://localhost:${attacker.port}/keys-stolen`;
    const hop = await fetch(`https://localhost:${api.port}/keys/echo?in=location&to=${encodeURIComponent(to)}`, { redirect: "manual" });
    assert.equal(hop.headers.get("location"), `${to}?api_key=${REDACTED_IN_URL}`);
  });
});
