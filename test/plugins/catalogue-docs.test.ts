/**
 * The catalogue stays one thing: the lazy registry (plugins/index.ts), the plugins folder and
 * the provider table in docs/providers.md list the same providers, and each docs row says what
 * the plugin says (auth type, hosts, where the credential goes, env names). Listing names
 * loads no plugin.
 */
import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { catalogue } from "../../plugins/catalogue.ts";
import { bundledPlugins } from "../../plugins/index.ts";
import { createRegistry } from "../../src/core/registry.ts";
import { validatePlugin } from "../../src/core/plugin-schema.ts";
import { providerRow } from "./catalogue-row.ts";

const docs = new URL("../../docs/providers.md", import.meta.url);
const folder = new URL("../../plugins/", import.meta.url);

/** The table rows between the markers in docs/providers.md. */
async function docsRows(): Promise<string[]> {
  const text = await readFile(docs, "utf8");
  const start = text.indexOf("<!-- providers:start -->");
  const end = text.indexOf("<!-- providers:end -->");
  assert.ok(start >= 0 && end > start, "docs/providers.md has the providers:start/end markers");
  return text.slice(start, end).split("\n").filter((line) => line.startsWith("| `"));
}

test("at least 120 bundled providers; the registry and the catalogue module list exactly the plugins folder", async () => {
  const files = (await readdir(folder)).filter((f) => f.endsWith(".ts") && f !== "index.ts" && f !== "catalogue.ts").map((f) => f.slice(0, -3));
  assert.deepEqual(Object.keys(bundledPlugins).sort(), files.sort());
  assert.deepEqual(Object.keys(catalogue).sort(), files.sort());
  for (const [name, plugin] of Object.entries(catalogue)) assert.equal(plugin.name, name, `catalogue.ts maps "${name}" to plugins/${plugin.name}.ts`);
  assert.ok(files.length >= 120, `only ${files.length} bundled providers`);
});

test("docs/providers.md has one row per bundled provider, saying what the plugin says", async () => {
  const expected: string[] = [];
  for (const name of Object.keys(bundledPlugins).sort()) {
    const load = bundledPlugins[name];
    assert.ok(load);
    expected.push(providerRow(validatePlugin((await load()).default, `plugins/${name}.ts`)));
  }
  const rows = await docsRows();
  const missing = expected.filter((row) => !rows.includes(row));
  const extra = rows.filter((row) => !expected.includes(row));
  assert.deepEqual({ missing, extra }, { missing: [], extra: [] }, "update the table in docs/providers.md (rows to use are in `missing`)");
  assert.deepEqual(rows, expected, "rows sorted by provider name");
});

test("listing provider names loads no plugin; getting one loads only that one", async () => {
  const home = await mkdtemp(join(tmpdir(), "authsome-catalogue-"));
  try {
    const imported: string[] = [];
    const counted = Object.fromEntries(Object.entries(bundledPlugins).map(([name, load]) => [name, () => {
      imported.push(name);
      return load();
    }]));
    const registry = createRegistry({ home, bundled: counted });
    assert.deepEqual(await registry.names(), Object.keys(bundledPlugins).sort());
    assert.deepEqual(imported, []);
    assert.equal((await registry.get("openai")).name, "openai");
    assert.deepEqual(imported, ["openai"]);
  } finally {
    await rm(home, { recursive: true, force: true });
  }
});
