/**
 * scripts/merge-script.mjs, which turns a merged ES module into the code-cached script the
 * packed CLI runs (src/runtime/code-cache.ts): every import form, dynamic imports and
 * import.meta, the export list, strict mode, and import-like text in strings left alone.
 */
import assert from "node:assert/strict";
import { runInThisContext } from "node:vm";
import { test } from "node:test";
// @ts-expect-error: a build script, plain JavaScript without types.
import { toScript } from "../../scripts/merge-script.mjs";

interface Made {
  script: string;
  deps: string[];
  names: string[];
}
type Run = (need: (id: string) => unknown, load: (spec: string) => Promise<unknown>, meta: { url: string }) => Record<string, unknown>;

const MODULE = [
  'import{a as x,b}from"./one.mjs";',
  'import D from"node:path";',
  'import E from"./two.mjs";',
  'import*as N from"./two.mjs";',
  'import"./side.mjs";',
  'import F,{c}from"./one.mjs";',
  'const text="import{z}from\\"./not-an-import.mjs\\"";',
  'function strict(){return this}',
  "let later=()=>import(\"./lazy.mjs\");",
  "const url=import.meta.url;",
  "export{x as mx,b as mb,D as md,E as me,N as mn,F as mf,c as mc,text as mt,strict as ms,later as ml,url as mu};",
].join("");

test("imports become declarations from __need, exports the returned object, in strict mode", async () => {
  const made = (await toScript(MODULE, "merged-test.js")) as Made;
  assert.deepEqual(made.deps.sort(), ["./one.mjs", "./side.mjs", "./two.mjs"]);
  assert.deepEqual(made.names, ["mx", "mb", "md", "me", "mn", "mf", "mc", "mt", "ms", "ml", "mu"]);
  const needed: string[] = [];
  const modules: Record<string, unknown> = {
    "./one.mjs": { a: "A", b: "B", c: "C", default: "F" },
    "./two.mjs": { default: "E", other: 1 },
    "./side.mjs": {},
    "node:path": { sep: "/" },
  };
  const loads: string[] = [];
  const run = runInThisContext(made.script) as Run;
  const out = run((id) => (needed.push(id), modules[id]), async (spec) => (loads.push(spec), { lazy: true }), { url: "file:///x/merged-test.mjs" });
  assert.equal(out["mx"], "A");
  assert.equal(out["mb"], "B");
  assert.equal(out["mc"], "C");
  assert.equal(out["mf"], "F", "a default import of a chunk is its `default`");
  assert.deepEqual(out["md"], { sep: "/" }, "a default import of a builtin is its module object");
  assert.equal(out["me"], "E");
  assert.equal(out["mn"], modules["./two.mjs"]);
  assert.equal(out["mt"], 'import{z}from"./not-an-import.mjs"', "text in a string is not an import");
  const strict = out["ms"] as () => unknown;
  assert.equal(strict(), undefined, "strict mode, as the module was (sloppy code would see globalThis)");
  assert.equal(out["mu"], "file:///x/merged-test.mjs");
  assert.ok(needed.includes("./side.mjs"), "a side-effect import is still loaded");
  assert.deepEqual(await (out["ml"] as () => Promise<unknown>)(), { lazy: true });
  assert.deepEqual(loads, ["./lazy.mjs"]);
});

test("a module whose exports are not one list of local names is refused", async () => {
  await assert.rejects(toScript('export{x}from"./y.mjs";', "merged-bad.js"), /one export list of local names/);
});
