import assert from "node:assert/strict";
import { readdir } from "node:fs/promises";
import { describe, test } from "node:test";
import { bundledPlugins } from "../../plugins/index.ts";
import { validatePlugin } from "../../src/core/plugin-schema.ts";
import { parseHostRule } from "../../src/core/rules.ts";

const folder = new URL("../../plugins/", import.meta.url);

describe("bundled plugins", () => {
  test("the lazy map lists exactly the files in plugins/", async () => {
    const files = (await readdir(folder)).filter((f) => f.endsWith(".ts") && f !== "index.ts" && f !== "catalogue.ts").map((f) => f.slice(0, -3));
    assert.deepEqual(Object.keys(bundledPlugins).sort(), files.sort());
    assert.ok(files.length >= 12, `only ${files.length} bundled plugins`);
  });

  for (const [name, load] of Object.entries(bundledPlugins)) {
    test(`${name}: valid, named like its file, https-only, exportable`, async () => {
      const plugin = validatePlugin((await load()).default, `plugins/${name}.ts`);
      assert.equal(plugin.name, name);
      assert.ok(plugin.displayName, "has a display name");
      assert.ok(plugin.inject.length > 0, "declares where its credential goes");
      for (const rule of plugin.inject) {
        const parsed = parseHostRule(rule.host);
        assert.equal(parsed.allowHttp, false, `${rule.host}: bundled credentials never go over plain HTTP`);
        assert.notEqual(parsed.kind, "regex", `${rule.host}: prefer exact or *.domain hosts`);
      }
      assert.ok(Object.keys(plugin.env ?? {}).length > 0, "maps at least one env variable");
      assert.ok(plugin.docsUrl?.startsWith("https://"), "links its docs");
    });
  }
});
