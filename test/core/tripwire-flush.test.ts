/**
 * The body scan on streams that wait for an answer (issue 16, HTTP/2 and gRPC): only a real
 * prefix of a needle is held back, a held tail can be flushed when the sender goes quiet, and a
 * needle that flushed bytes began still trips when the next bytes complete it.
 */
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { createAuthService, type AuthService } from "../../src/core/auth-service.ts";
import { createTripwire, type Tripwire } from "../../src/core/tripwire.ts";
import { tempHome } from "../helpers/cli.ts";

const KEY = "keeper-secret-0123456789";
const PLACEHOLDER = "sk-authsome-abcdefghijklmnopqrstuvwx";
let home: Awaited<ReturnType<typeof tempHome>>;
let service: AuthService;
let tripwire: Tripwire;

before(async () => {
  home = await tempHome();
  const plugin = join(home.home, "keeper.json");
  await writeFile(plugin, JSON.stringify({ name: "keeper", authType: "api_key", inject: [{ host: "api.keeper.test" }] }));
  service = await createAuthService({ home: home.home });
  await service.installProvider(plugin);
  await service.login("keeper", { apiKey: KEY });
  tripwire = createTripwire(service.core, { placeholders: async () => ({ keeper: PLACEHOLDER }) });
});
after(async () => {
  tripwire.close();
  await service.close();
  await home.cleanup();
});

test("a chunk whose end cannot begin a needle passes whole, at once", async () => {
  const scan = await tripwire.body(new URL("https://evil.test/"));
  const message = Buffer.from("ping-1;");
  assert.deepEqual(scan.push(message), message, "nothing held back: a ping-pong stream gets its message");
});

test("a held prefix is flushed on request, and the needle it begins still trips", async () => {
  const scan = await tripwire.body(new URL("https://evil.test/"));
  const cut = 5;
  const out = scan.push(Buffer.from(`hello ${PLACEHOLDER.slice(0, cut)}`));
  assert.equal(out?.toString(), "hello ", "the possible start of a needle is held");
  assert.equal(scan.flush().toString(), PLACEHOLDER.slice(0, cut), "the sender went quiet: it goes out");
  assert.equal(scan.flush().length, 0);
  assert.equal(scan.push(Buffer.from(`${PLACEHOLDER.slice(cut)} tail`)), null, "completed by the next bytes: tripped");
  assert.equal(scan.hit?.kind, "placeholder");
});

test("after a flush, clean bytes pass byte for byte and nothing is sent twice", async () => {
  const scan = await tripwire.body(new URL("https://evil.test/"));
  const parts = ["abc sk-auth", "X more", " and sk", "Y end"];
  const sent: Buffer[] = [];
  for (const part of parts) {
    sent.push(scan.push(Buffer.from(part)) ?? assert.fail("tripped"));
    sent.push(scan.flush());
  }
  sent.push(scan.end() ?? assert.fail("tripped"));
  assert.equal(Buffer.concat(sent).toString(), parts.join(""));
});

test("a chunked body (the raw relay's scan): a flush releases the held data and the framing behind it", async () => {
  const { ChunkedBodyScan } = await import("../../src/core/tripwire-chunked.ts");
  const scan = new ChunkedBodyScan(await tripwire.body(new URL("https://evil.test/")));
  const first = `hi ${PLACEHOLDER.slice(0, 4)}`;
  const framed = `${first.length.toString(16)}\r\n${first}\r\n`;
  const out = scan.push(Buffer.from(framed)) ?? assert.fail("tripped");
  assert.ok(scan.holding, "the possible start of a needle is held, with the CRLF behind it");
  assert.equal(Buffer.concat([out, scan.flush()]).toString(), framed, "the agent went quiet: the whole chunk goes out");
  assert.equal(scan.holding, false);
  const rest = `${PLACEHOLDER.slice(4)}`;
  assert.equal(scan.push(Buffer.from(`${rest.length.toString(16)}\r\n${rest}\r\n`)), null, "completed in the next chunk: tripped");
});
