/**
 * The last-known values a proxy may serve while its store is unreachable (src/core/last-known.ts):
 * only after a store_unavailable failure, only within the bound since the store last vouched,
 * never a value no longer usable, and the store is asked again once the outage window passes.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { AuthsomeError } from "../../src/core/errors.ts";
import { createLastKnown } from "../../src/core/last-known.ts";

const down = new AuthsomeError("store_unavailable", "the redis store did not answer");

test("serves the last value after a store outage, within the bound, then not", () => {
  let clock = 0;
  const known = createLastKnown<string>(() => true, 3_000, () => clock);
  known.remember("k", "v1");
  clock = 2_000;
  assert.deepEqual(known.afterFailure("k", down), { value: "v1" });
  assert.deepEqual(known.duringOutage("k"), { value: "v1" }, "no new ask of the store while the outage window lasts");
  clock = 3_001;
  assert.equal(known.duringOutage("k"), undefined, "past the bound: nothing to serve");
  assert.equal(known.afterFailure("k", down), undefined);
});

test("confirm (the change feed vouching) moves the bound; other failures and unusable values serve nothing", () => {
  let clock = 0;
  let usable = true;
  const known = createLastKnown<string>(() => usable, 3_000, () => clock);
  known.remember("k", "v1");
  clock = 2_500;
  known.confirm("k");
  clock = 5_000;
  assert.deepEqual(known.afterFailure("k", down), { value: "v1" }, "2.5 s since the feed last vouched");
  assert.equal(known.afterFailure("k", new AuthsomeError("connection_not_found", "no connection")), undefined, "only an unreachable store");
  usable = false;
  assert.equal(known.afterFailure("k", down), undefined, "an expired credential is never served");
  assert.equal(known.afterFailure("other", down), undefined, "nothing known");
});

test("the outage window ends: after it the store is asked again", () => {
  let clock = 0;
  const known = createLastKnown<string>(() => true, 60_000, () => clock);
  known.remember("k", "v1");
  known.afterFailure("k", down);
  clock = 4_999;
  assert.notEqual(known.duringOutage("k"), undefined);
  clock = 5_001;
  assert.equal(known.duringOutage("k"), undefined, "asks the store once more");
  known.remember("k", "v2");
  assert.equal(known.duringOutage("k"), undefined, "a successful read ends the outage");
});
