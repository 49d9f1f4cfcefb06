import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import { AuthsomeError } from "../../src/core/errors.ts";
import { compilePluginModule, importPluginModule, pluginEntryUrl } from "../../src/core/plugin-module.ts";

const PLUGIN_URL = "file:///opt/authsome/dist/plugin.mjs";
let dir = "";

before(async () => {
  // Outside the repository: nothing up the tree resolves "authsome/plugin" or any package.
  dir = await mkdtemp(join(tmpdir(), "authsome-plugin-module-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function compile(code: string, file = "/plugins/acme.ts", relocate = true): Promise<string> {
  return compilePluginModule(code, { file, source: "./acme.ts", pluginUrl: PLUGIN_URL, relocate });
}

function refused(...fragments: string[]) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof AuthsomeError, String(error));
    assert.equal(error.code, "plugin_invalid", error.message);
    assert.ok(!error.message.includes("\n"), `one line: ${error.message}`);
    for (const fragment of fragments) assert.ok(error.message.includes(fragment), `"${error.message}" lacks "${fragment}"`);
    return true;
  };
}

describe("compilePluginModule", () => {
  test("every name of the plugin entry becomes our plugin module's URL, static and dynamic", async () => {
    const names = ["authsome/plugin", "authsome-broker/plugin", "@authsome/broker/plugin", "npm:authsome-broker@0.2/plugin", "jsr:@authsome/broker/plugin"];
    const code = [
      ...names.map((n, i) => `import { definePlugin as d${i} } from "${n}";`),
      "export { definePlugin } from 'authsome/plugin';",
      "const lazy = await import(\"authsome-broker/plugin\");",
      "export default d0({ name: 'a' });",
    ].join("\n");
    const out = await compile(code, "/plugins/acme.mjs");
    for (const name of names) assert.ok(!out.includes(`"${name}"`), `${name} rewritten:\n${out}`);
    assert.equal(out.split(JSON.stringify(PLUGIN_URL)).length - 1, names.length + 2);
    assert.ok(out.includes(`import(${JSON.stringify(PLUGIN_URL)})`));
    assert.ok(!out.includes("'authsome/plugin'"));
  });

  test("types are stripped, type-only imports vanish, line numbers are kept", async () => {
    const code = [
      "import type { ProviderPlugin } from \"authsome/plugin\";",
      "import { definePlugin, type InjectionRule } from \"authsome/plugin\";",
      "interface Extra { a: string }",
      "const rule: InjectionRule = { host: \"api.acme.example\" };",
      "export default definePlugin({ name: \"acme\", authType: \"api_key\", inject: [rule] } satisfies ProviderPlugin);",
    ].join("\n");
    const out = await compile(code);
    assert.ok(!/ProviderPlugin|InjectionRule|interface|satisfies|: InjectionRule/.test(out), out);
    const lines = out.split("\n");
    assert.equal(lines.length, 5);
    assert.match(lines[1] ?? "", new RegExp(`import \\{ definePlugin.*\\} from ${JSON.stringify(PLUGIN_URL).replaceAll("/", "\\/").replaceAll(".", "\\.")}`));
    assert.match(lines[3] ?? "", /^const rule = \{ host: "api\.acme\.example" \};$/);
  });

  test("relative .js imports point at the plugin's own directory; builtins and URLs stay", async () => {
    const pluginDir = await mkdtemp(join(dir, "relative-"));
    await mkdir(join(pluginDir, "acme"));
    await writeFile(join(pluginDir, "acme", "shared.js"), "export default 1;\n");
    await writeFile(join(pluginDir, "b.mjs"), "export default 2;\n");
    const code = "import a from './shared.js';\nimport b from \"../b.mjs\";\nimport { join } from 'node:path';\nimport fs from 'fs';\nimport c from 'https://example.com/c.js';\nexport default a;";
    const out = await compile(code, join(pluginDir, "acme", "p.js"));
    assert.ok(out.includes(JSON.stringify(pathToFileURL(join(pluginDir, "acme", "shared.js")).href)), out);
    assert.ok(out.includes(JSON.stringify(pathToFileURL(join(pluginDir, "b.mjs")).href)), out);
    assert.ok(out.includes("'node:path'") && out.includes("'fs'") && out.includes("'https://example.com/c.js'"), out);
  });

  test("TypeScript helpers (./x.ts, or ./x.js naming x.ts) and bare packages are refused in one line naming both", async () => {
    const pluginDir = await mkdtemp(join(dir, "helpers-"));
    await writeFile(join(pluginDir, "shared.ts"), "export const x = 1;\n");
    const file = join(pluginDir, "acme.ts");
    for (const specifier of ["./shared.ts", "./shared.js", "./shared"]) {
      await assert.rejects(compile(`import { x } from '${specifier}';\nexport default x;`, file), refused("./acme.ts", `"${specifier}"`, "one file"));
    }
    await assert.rejects(compile("import { z } from 'zod';\nexport default z;"), refused("./acme.ts", "\"zod\"", "npm package"));
  });

  test("compiled in place (an npm package's entry), relative and bare imports are left as written", async () => {
    const out = await compile("import x from './x.js';\nimport z from 'zod';\nimport { definePlugin } from 'authsome/plugin';\nexport default x;", "/pkg/index.js", false);
    assert.ok(out.includes("'./x.js'") && out.includes("'zod'") && out.includes(JSON.stringify(PLUGIN_URL)), out);
  });

  test("a TypeScript syntax error names the file, line and column", async () => {
    await assert.rejects(compile("export default {\n  name: \"acme\",\n  authType: : \"api_key\",\n};"), refused("plugin ./acme.ts:", "syntax error at line 3, column 13"));
  });

  test("our plugin entry URL from the sources is src/plugin.ts, which exists", () => {
    const url = pluginEntryUrl();
    assert.ok(url.endsWith("/src/plugin.ts"), url);
    assert.ok(existsSync(fileURLToPath(url)));
  });
});

describe("importPluginModule", () => {
  async function file(name: string, code: string): Promise<string> {
    const path = join(dir, name);
    await writeFile(path, code);
    return path;
  }

  test("a .ts plugin outside the repo that imports authsome/plugin loads with its real entry", async () => {
    const path = await file("real.ts", "import { definePlugin } from \"authsome-broker/plugin\";\nconst name: string = \"real\";\nexport default definePlugin({ name, authType: \"api_key\", inject: [{ host: \"api.real.example\" }] });\n");
    assert.deepEqual(await importPluginModule(path, "./real.ts"), { name: "real", authType: "api_key", inject: [{ host: "api.real.example" }] });
  });

  test("a CommonJS .js file runs on both runtimes, with require(\"authsome/plugin\") and __esModule defaults", async () => {
    const plain = await file("common.js", "const { definePlugin } = require(\"authsome/plugin\");\nconst { join } = require(\"node:path\");\nmodule.exports = definePlugin({ name: join(\"com\", \"mon\").replace(/[\\\\/]/, \"\"), authType: \"api_key\", inject: [] });\n");
    assert.deepEqual(await importPluginModule(plain, "./common.js"), { name: "common", authType: "api_key", inject: [] });
    const transpiled = await file("transpiled.js", "\"use strict\";\nObject.defineProperty(exports, \"__esModule\", { value: true });\nexports.default = { name: \"transpiled\" };\n");
    assert.deepEqual(await importPluginModule(transpiled, "./transpiled.js"), { name: "transpiled" });
    const throws = await file("cjs-throws.js", "const a = 1;\nthrow new Error(\"cjs boom\");\n");
    await assert.rejects(importPluginModule(throws, "./cjs-throws.js"), refused("plugin ./cjs-throws.js:", "line 2", "cjs boom"));
  });

  test("a module that throws is refused with its file and line named", async () => {
    const path = await file("throws.ts", "const n: number = 1;\nthrow new Error(\"boom at load\");\nexport default {};\n");
    await assert.rejects(importPluginModule(path, "./throws.ts"), refused("plugin ./throws.ts:", "line 2", "boom at load"));
  });

  test("a JavaScript syntax error is refused with the file named, not the compiled copy", async () => {
    const path = await file("broken.mjs", "export default {\n  name: \"broken\",,\n};\n");
    await assert.rejects(importPluginModule(path, "./broken.mjs"), (error: unknown) => {
      refused("plugin ./broken.mjs:")(error);
      assert.ok(!(error as Error).message.includes(".authsome-"), (error as Error).message);
      return true;
    });
  });

  test("compiled in place, the compiled copy is removed afterwards", async () => {
    const pkg = await mkdtemp(join(dir, "pkg-"));
    const path = join(pkg, "index.js");
    await writeFile(path, "import { definePlugin } from 'authsome/plugin';\nexport default definePlugin({ name: 'inplace' });\n");
    assert.deepEqual(await importPluginModule(path, "pkg", { inPlace: true }), { name: "inplace" });
    assert.deepEqual(await readdir(pkg), ["index.js"]);
  });
});
