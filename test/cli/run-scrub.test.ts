/**
 * Response scrubbing through the real `authsome run` (issue 10): curl, python3 urllib and a
 * Node child's fetch reach an echoing HTTPS upstream that hands the key back in its body, a
 * header and a Location; the child's output never holds the key, and the redirect that kept
 * the key delivers none to the other host.
 */
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { runCli, tempHome } from "../helpers/cli.ts";
import { startHomeWithUpstream } from "../helpers/cli-upstream.ts";
import type { TestUpstream } from "../helpers/proxy-upstream.ts";

const KEY = "acme-echo-key-0123456789";
let home: Awaited<ReturnType<typeof tempHome>>;
let upstream: TestUpstream;
let env: Record<string, string>;
let base: string;
let query: string;

before(async () => {
  ({ home, upstream, env, base } = await startHomeWithUpstream(["api", "q", "other"]));
  query = `https://q.example.test:${upstream.port}`;
  const plugin = join(home.home, "acme.json");
  await writeFile(plugin, JSON.stringify({ name: "acme", authType: "api_key", inject: [{ host: "api.example.test" }, { host: "q.example.test", in: "query", name: "api_key" }] }));
  // The redirect target is another provider's host, so the child (which trusts only the home's
  // CA) can reach it through the proxy; it has a key of its own.
  const other = join(home.home, "elsewhere.json");
  await writeFile(other, JSON.stringify({ name: "elsewhere", authType: "api_key", inject: [{ host: "other.example.test" }] }));
  for (const args of [["providers", "add", plugin], ["login", "acme"], ["providers", "add", other], ["login", "elsewhere"]]) {
    const r = await runCli(args, { env, input: args.includes("elsewhere") ? "elsewhere-key-000000" : KEY });
    assert.equal(r.code, 0, r.stderr);
  }
});
after(async () => {
  await upstream.close();
  await home.cleanup();
});

const forms = [KEY, Buffer.from(KEY).toString("base64").slice(0, 16), Buffer.from(KEY).toString("hex"), encodeURIComponent(KEY)];
const leaks = (text: string): boolean => forms.some((form) => text.includes(form));
const run = (args: string[]) => runCli(["run", "--", ...args], { env });

test("curl: body (base64, hex) and header echoes are scrubbed", async () => {
  const r = await run(["sh", "-c", `curl -sS --fail "${base}/echo?in=body&form=base64"; echo; curl -sS --fail "${base}/echo?in=body&form=hex"; echo; curl -sS --fail -D - -o /dev/null "${base}/echo?in=header"`]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(upstream.requests.at(-1)?.headers.authorization, `Bearer ${KEY}`, "the upstream got the key");
  assert.ok(!leaks(r.stdout), r.stdout);
  assert.match(r.stdout, /\{"echo":"\[authsome:redacted\]\**"\}/);
  assert.match(r.stdout, /x-echo: \[authsome:redacted\]/i);
});

test("python3: a redirect keeping the injected query key reaches the other host without it", async () => {
  const to = `https://other.example.test:${upstream.port}/py-stolen`;
  const script = `import urllib.request; r = urllib.request.urlopen("${query}/echo?in=location&to=${encodeURIComponent(to)}"); print(r.geturl())`;
  const r = await run(["python3", "-c", script]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(!leaks(r.stdout), r.stdout);
  const stolen = upstream.requests.filter((q) => q.url.startsWith("/py-stolen"));
  assert.equal(stolen.length, 1, "the redirect was followed");
  assert.ok(!leaks(stolen[0]?.url ?? ""), stolen[0]?.url);
});

test("a Node child's fetch: body, header and Response.url hold no key", async () => {
  const script = `const r = await fetch("${query}/echo?in=body&form=url"); console.log(r.url, JSON.stringify([...r.headers]), await r.text());`;
  const r = await run(["node", "--input-type=module", "-e", script]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(upstream.requests.at(-1)?.url, `/echo?in=body&form=url&api_key=${KEY}`);
  assert.ok(!leaks(r.stdout), r.stdout);
  assert.match(r.stdout, /\[redacted\]|\[authsome:redacted\]/);
});
