/**
 * Flushing a response scrubber when the upstream goes quiet (issue 16: an HTTP/2 or gRPC stream
 * that waits for the agent must not wait on bytes held back as a possible secret): the held
 * bytes go out, stay in view, and a secret they began loses the rest of itself to `*`.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { createScrubber } from "../../src/core/scrub.ts";

const SECRET = "sk-flush-0123456789abcdef";
const scrubber = createScrubber([SECRET]) ?? assert.fail("no scrubber");

test("a flushed prefix goes out; the secret it began is starred when the next bytes complete it", () => {
  for (let cut = 1; cut < SECRET.length; cut += 1) {
    const stream = scrubber.stream(true);
    const first = Buffer.concat([stream.push(Buffer.from(`hello ${SECRET.slice(0, cut)}`)), stream.flush()]).toString("latin1");
    const rest = Buffer.concat([stream.push(Buffer.from(`${SECRET.slice(cut)} bye`)), stream.end()]).toString("latin1");
    const seen = first + rest;
    assert.equal(seen.length, `hello ${SECRET} bye`.length, `cut ${cut}: same length`);
    assert.ok(!seen.includes(SECRET), `cut ${cut}: ${seen}`);
    assert.equal(rest, `${"*".repeat(SECRET.length - cut)} bye`, `cut ${cut}`);
  }
});

test("without a secret, flushing changes nothing: bytes pass byte for byte, once", () => {
  const stream = scrubber.stream(true);
  const parts = ["abc sk-fl", "X more sk", "-", "flushY end"];
  const out: Buffer[] = [];
  for (const part of parts) out.push(stream.push(Buffer.from(part)), stream.flush());
  out.push(stream.end());
  assert.equal(Buffer.concat(out).toString(), parts.join(""));
});

test("a whole secret after a flush is replaced as usual", () => {
  const stream = scrubber.stream(true);
  const out = [stream.push(Buffer.from("x sk-")), stream.flush(), stream.push(Buffer.from(`q ${SECRET} y`)), stream.end()];
  const text = Buffer.concat(out).toString("latin1");
  assert.ok(!text.includes(SECRET), text);
  assert.equal(text.length, `x sk-q ${SECRET} y`.length);
});

test("a whole form that could still grow (base64 before its padding) is replaced by a flush, not passed on", () => {
  const key = "sk-flush-0123456789abcdeX"; // 25 bytes: its base64 ends in padding
  const unpadded = Buffer.from(key).toString("base64").replace(/=+$/, "");
  const stream = (createScrubber([key]) ?? assert.fail("no scrubber")).stream(true);
  const out = Buffer.concat([stream.push(Buffer.from(`x ${unpadded}`)), stream.flush()]).toString("latin1");
  assert.equal(out.length, 2 + unpadded.length);
  assert.ok(!out.includes(unpadded.slice(0, 8)), out);
  const after = Buffer.concat([stream.push(Buffer.from("== y")), stream.end()]).toString("latin1");
  assert.equal(after, "** y", "the padding that completes it is starred too");
});

test("a held prefix of 8 bytes or more is starred by a flush: at most 7 bytes of a secret reach the agent", () => {
  const stream = scrubber.stream(true);
  const out = Buffer.concat([stream.push(Buffer.from(`a ${SECRET.slice(0, 7)}`)), stream.flush()]).toString("latin1");
  assert.equal(out, `a ${SECRET.slice(0, 7)}`, "a short prefix may be a coincidence: it goes out as it is");
  const more = Buffer.concat([stream.push(Buffer.from(SECRET.slice(7, 12))), stream.flush()]).toString("latin1");
  assert.equal(more, "*****", "now 12 bytes of it are in view: what is new is starred");
  assert.equal(Buffer.concat([stream.push(Buffer.from(`${SECRET.slice(12)}!`)), stream.end()]).toString("latin1"), `${"*".repeat(SECRET.length - 12)}!`);
});
