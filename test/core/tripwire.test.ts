/**
 * Placeholders and tripwires in core (issue 10): every bundled key pattern gets a placeholder it
 * accepts, fresh per run (and the same for the proxy and the child of one run); the tripwire
 * finds a placeholder or a stored secret in the URL, the headers (Basic included) and a body cut
 * at any point, never lets a byte of it through, and leaves other bodies byte for byte.
 */
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { createAuthService, type AuthService } from "../../src/core/auth-service.ts";
import { createPlaceholder, PLACEHOLDER_PREFIX } from "../../src/core/placeholder.ts";
import { createTripwire, MAX_BODY_SCAN, type Tripwire } from "../../src/core/tripwire.ts";
import { ChunkedBodyScan } from "../../src/core/tripwire-chunked.ts";
import { runPlaceholders } from "../../src/proxy/child.ts";
import { tempHome } from "../helpers/cli.ts";
import { bundledPlugins as plugins } from "../../plugins/index.ts";

const KEY = "keeper-secret-0123456789";
const PLACEHOLDER = "sk-authsome-abcdefghijklmnopqrstuvwx";
const HOSTED_KEY = "hosted-secret-0123456789";
let home: Awaited<ReturnType<typeof tempHome>>;
let service: AuthService;
let tripwire: Tripwire;
const fail = (): never => assert.fail("no bundled openai plugin");

before(async () => {
  home = await tempHome();
  const plugin = join(home.home, "keeper.json");
  await writeFile(plugin, JSON.stringify({ name: "keeper", authType: "api_key", inject: [{ host: "api.keeper.test" }] }));
  service = await createAuthService({ home: home.home });
  await service.installProvider(plugin);
  await service.login("keeper", { apiKey: KEY });
  const hosted = join(home.home, "hosted.json");
  await writeFile(hosted, JSON.stringify({ name: "hosted", authType: "api_key", inject: [{ host: "api.hosted.test" }] }));
  await service.installProvider(hosted);
  await service.login("hosted", { apiKey: HOSTED_KEY, baseUrl: "https://git.corp.test/" });
  tripwire = createTripwire(service.core, { placeholders: async () => ({ keeper: PLACEHOLDER }) });
});
after(async () => {
  tripwire.close();
  await service.close();
  await home.cleanup();
});

test("every bundled key pattern accepts its placeholder; each call gives a fresh one", async () => {
  let patterned = 0;
  for (const load of Object.values(plugins)) {
    const plugin = (await load()).default;
    const pattern = plugin.apiKey?.pattern;
    if (pattern === undefined) continue;
    patterned += 1;
    const [a, b] = [createPlaceholder(plugin), createPlaceholder(plugin)];
    assert.match(a, new RegExp(pattern), `${plugin.name}: ${a}`);
    assert.ok(!a.startsWith(PLACEHOLDER_PREFIX), `${plugin.name} fell back to the readable form`);
    assert.notEqual(a, b, plugin.name);
  }
  assert.ok(patterned >= 10, `only ${patterned} bundled plugins have a key pattern`);
  const openai = (await (plugins["openai"] ?? fail)()).default;
  assert.match(createPlaceholder(openai), /^sk-authsome-[A-Za-z0-9_-]{24}$/);
  assert.match(createPlaceholder({ name: "x", authType: "api_key", inject: [], apiKey: { pattern: "^(a+)+$" } }), /^authsome-managed-[A-Za-z0-9]{24}$/);
});

test("a run's placeholders are the same for its proxy and its child, and differ between runs", async () => {
  const openai = (await (plugins["openai"] ?? fail)()).default;
  const one = runPlaceholders("http://_:token-one@127.0.0.1:1", [openai]);
  assert.deepEqual(runPlaceholders("http://_:token-one@127.0.0.1:2", [openai]), one, "the port plays no part");
  assert.notDeepEqual(runPlaceholders("http://_:token-two@127.0.0.1:1", [openai]), one);
  assert.match(one["openai"] ?? "", /^sk-authsome-/);
});

test("URL and header values: a needle bound for another host trips; to its own host it does not", async () => {
  const basic = `Basic ${Buffer.from(`user:${PLACEHOLDER}`).toString("base64")}`;
  const cases: [string, string[], string | null][] = [
    [`https://evil.test/x?k=${PLACEHOLDER}`, [], "url"],
    ["https://evil.test/x", ["x-leak", KEY], "header"],
    ["https://evil.test/x", ["authorization", basic], "header"],
    ["https://evil.test/x", ["x-hex", Buffer.from(KEY).toString("hex")], "header"],
    ["https://api.keeper.test/x", ["x-leak", KEY, "authorization", `Bearer ${PLACEHOLDER}`], null],
    ["https://evil.test/x", ["x-fine", "nothing here"], null],
  ];
  for (const [url, headers, where] of cases) {
    const hit = await tripwire.check(new URL(url), headers);
    assert.equal(hit?.where ?? null, where, `${url} ${headers.join(" ")}`);
    if (hit !== null) assert.equal(hit.provider, "keeper");
  }
  assert.equal((await tripwire.check(new URL("https://evil.test/"), ["x", KEY]))?.kind, "secret");
  assert.equal((await tripwire.check(new URL(`https://evil.test/?${PLACEHOLDER}`), []))?.kind, "placeholder");
});

test("a body cut at every point: the needle trips, and no byte of it is ever let through", async () => {
  const body = Buffer.from(`{"prompt":"hello","key":"${PLACEHOLDER}","tail":"x"}`);
  const start = body.indexOf(PLACEHOLDER);
  for (let cut = 1; cut < body.length; cut += 1) {
    const scan = await tripwire.body(new URL("https://evil.test/"));
    const sent: Buffer[] = [];
    for (const piece of [body.subarray(0, cut), body.subarray(cut)]) {
      const out = scan.push(piece);
      if (out === null) break;
      sent.push(out);
    }
    assert.equal(scan.hit?.where, "body", `cut ${cut}`);
    assert.ok(Buffer.concat(sent).length <= start, `cut ${cut}: ${Buffer.concat(sent).length} bytes left, the needle starts at ${start}`);
  }
});

test("a clean body leaves byte for byte; past the scan bound bytes pass unscanned", async () => {
  const scan = await tripwire.body(new URL("https://evil.test/"));
  const clean = Buffer.from("a".repeat(1000) + "b".repeat(1000));
  const out = Buffer.concat([scan.push(clean.subarray(0, 777)) ?? Buffer.alloc(0), scan.push(clean.subarray(777)) ?? Buffer.alloc(0), scan.end() ?? Buffer.alloc(0)]);
  assert.deepEqual(out, clean);
  const own = await tripwire.body(new URL("https://api.keeper.test/"));
  assert.notEqual(own.push(Buffer.from(`key=${PLACEHOLDER}`)), null, "to its own host the placeholder passes");
  const long = await tripwire.body(new URL("https://evil.test/"));
  assert.notEqual(long.push(Buffer.alloc(MAX_BODY_SCAN, 0x61)), null);
  assert.deepEqual(long.push(Buffer.from(PLACEHOLDER)), Buffer.from(PLACEHOLDER), "the stated limit: beyond the bound nothing is scanned");
});

/** A chunked body: each part its own chunk (with an extension on the first), then a trailer. */
function chunked(parts: string[]): Buffer {
  return Buffer.from(parts.map((p, i) => `${Buffer.byteLength(p).toString(16)}${i === 0 ? ";x=1" : ""}\r\n${p}\r\n`).join("") + "0\r\nx-trailer: t\r\n\r\n", "latin1");
}

test("a chunked body (relay): a value cut by a chunk boundary trips, whatever the reads; none of it leaves", async () => {
  const at = 10;
  for (let split = 1; split < PLACEHOLDER.length; split += 1) {
    const body = chunked([`${"p".repeat(at)}${PLACEHOLDER.slice(0, split)}`, `${PLACEHOLDER.slice(split)}${"q".repeat(50)}`]);
    for (let cut = 1; cut < body.length; cut += 7) {
      const scan = new ChunkedBodyScan(await tripwire.body(new URL("https://evil.test/")));
      const sent: Buffer[] = [];
      for (const piece of [body.subarray(0, cut), body.subarray(cut)]) {
        const out = scan.push(piece);
        if (out === null) break;
        sent.push(out);
      }
      assert.equal(scan.hit?.where, "body", `split ${split}, cut ${cut}`);
      // Nothing from the value's first byte on: what left is a prefix of the body before it.
      const start = body.indexOf("p".repeat(at)) + at;
      assert.ok(Buffer.concat(sent).length <= start, `split ${split}, cut ${cut}: ${Buffer.concat(sent).length} bytes left, the value starts at ${start}`);
    }
  }
});

test("a clean chunked body leaves byte for byte, trailer included; a value in a trailer trips", async () => {
  const body = chunked(["hello ", "world", "x".repeat(3000)]);
  for (let cut = 1; cut < body.length; cut += 97) {
    const scan = new ChunkedBodyScan(await tripwire.body(new URL("https://evil.test/")));
    const out = Buffer.concat([scan.push(body.subarray(0, cut)) ?? Buffer.alloc(0), scan.push(body.subarray(cut)) ?? Buffer.alloc(0), scan.end() ?? Buffer.alloc(0)]);
    assert.deepEqual(out, body, `cut ${cut}`);
  }
  const trailer = Buffer.from(`5\r\nhello\r\n0\r\nx-key: ${KEY}\r\n\r\n`, "latin1");
  const scan = new ChunkedBodyScan(await tripwire.body(new URL("https://evil.test/")));
  assert.equal(scan.push(trailer) === null || scan.end() === null, true);
  assert.equal(scan.hit?.kind, "secret");
});

test("a connection's --base-url host is its provider's own: its secret may go there, nowhere else", async () => {
  assert.equal(await tripwire.check(new URL("https://git.corp.test/api"), ["x", HOSTED_KEY]), null);
  assert.equal((await tripwire.check(new URL("https://api.keeper.test/api"), ["x", HOSTED_KEY]))?.provider, "hosted");
});
