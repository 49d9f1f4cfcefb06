/**
 * The dashboard's paging (src/server/ui/paging.ts): which slice a `?page=` shows and the links
 * to the others. The pages that use it are tested through `app.request()` in ui.test.ts.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { pager, sliceOf } from "../../src/server/ui/paging.ts";

const items = Array.from({ length: 45 }, (_, i) => i);

test("a page's slice: 1-based, past the end the last page, nonsense the first, an empty list one empty page", () => {
  assert.deepEqual(sliceOf(items, undefined, 20), { items: items.slice(0, 20), page: 1, pages: 3, total: 45 });
  assert.deepEqual(sliceOf(items, "3", 20).items, [40, 41, 42, 43, 44]);
  assert.equal(sliceOf(items, "9", 20).page, 3);
  for (const nonsense of ["0", "-2", "x", ""]) assert.equal(sliceOf(items, nonsense, 20).page, 1, nonsense);
  assert.deepEqual(sliceOf([], "4", 20), { items: [], page: 1, pages: 1, total: 0 });
});

test("the pager links previous and next with rel, keeps the other parameters, and is absent for one page", () => {
  const middle = String(pager(sliceOf(items, "2", 20), "Pages of providers", "/ui/", "work"));
  assert.match(middle, /^<nav class="pager" aria-label="Pages of providers">/);
  assert.match(middle, /<a href="\/ui\/\?profile=work&amp;page=1" rel="prev">← Previous<\/a>/);
  assert.match(middle, /page 2 of 3/);
  assert.match(middle, /<a href="\/ui\/\?profile=work&amp;page=3" rel="next">Next →<\/a>/);
  const last = String(pager(sliceOf(items, "3", 20), "Pages", "/ui/provider", "", { provider: "openai" }));
  assert.match(last, /href="\/ui\/provider\?provider=openai&amp;page=2" rel="prev"/);
  assert.doesNotMatch(last, /rel="next"/);
  assert.equal(pager(sliceOf(items.slice(0, 5), "1", 20), "Pages", "/ui/", ""), "");
});
