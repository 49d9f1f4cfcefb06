/**
 * The registry takes the bundled catalogue as it is, without parsing it with the plugin schema
 * at every start (src/core/registry.ts): that is sound only while the schema's output equals
 * each bundled plugin, which this test (and scripts/build.mjs) checks. Third-party plugins are
 * validated at load.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { bundledPlugins } from "../../plugins/index.ts";
import { validatePlugin } from "../../src/core/plugin-schema.ts";
import { createRegistry } from "../../src/core/registry.ts";

test("every bundled plugin is what the plugin schema makes of it", async () => {
  const names = Object.keys(bundledPlugins);
  assert.ok(names.length > 100);
  for (const name of names) {
    const plugin = (await (bundledPlugins[name] ?? (() => Promise.reject(new Error(name))))()).default;
    assert.deepEqual(validatePlugin(plugin, `plugins/${name}.ts`), plugin, name);
  }
});

test("the registry hands out the bundled plugin itself, and still validates an injected map", async () => {
  const home = await mkdtemp(join(tmpdir(), "authsome-trusted-"));
  try {
    const catalogue = (await (bundledPlugins["openai"] ?? (() => Promise.reject(new Error("openai"))))()).default;
    assert.equal(await createRegistry({ home }).get("openai"), catalogue);
    const injected = createRegistry({ home, bundled: { broken: async () => ({ default: { name: "broken" } as never }) } });
    await assert.rejects(injected.get("broken"), /broken/);
  } finally {
    await rm(home, { recursive: true, force: true });
  }
});
