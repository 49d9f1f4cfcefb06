import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { AuthsomeError } from "../../src/core/errors.ts";
import { createRegistry } from "../../src/core/registry.ts";

const fixtures = fileURLToPath(new URL("../fixtures/plugins/", import.meta.url));
let home = "";

before(async () => {
  home = await mkdtemp(join(tmpdir(), "authsome-registry-"));
});
after(async () => {
  await rm(home, { recursive: true, force: true });
});

async function freshHome(): Promise<string> {
  return await mkdtemp(join(home, "home-"));
}

function isCode(code: string, ...fragments: string[]) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof AuthsomeError, String(error));
    assert.equal(error.code, code, error.message);
    for (const fragment of fragments) assert.ok(error.message.includes(fragment), `"${error.message}" lacks "${fragment}"`);
    return true;
  };
}

describe("install", () => {
  test("native JSON: stored validated, 0600 in a 0700 dir, with a $source note", async () => {
    const h = await freshHome();
    const registry = createRegistry({ home: h });
    const plugin = await registry.install(join(fixtures, "native-widget.json"));
    assert.equal(plugin.name, "widget");
    const file = join(h, "plugins", "widget.json");
    const stored = JSON.parse(await readFile(file, "utf8"));
    assert.equal(stored.$source, join(fixtures, "native-widget.json"));
    assert.equal(stored.$schema, undefined);
    if (process.platform !== "win32") {
      assert.equal((await stat(file)).mode & 0o777, 0o600);
      assert.equal((await stat(join(h, "plugins"))).mode & 0o777, 0o700);
    }
    assert.deepEqual(await registry.get("widget"), plugin);
    assert.deepEqual((await readdir(join(h, "plugins"))).sort(), ["widget.json"], "no temp file left");
  });

  test("authsome-v1 JSON is converted once and stored native", async () => {
    const h = await freshHome();
    const registry = createRegistry({ home: h });
    await registry.install(join(fixtures, "v1-forge.json"));
    const stored = JSON.parse(await readFile(join(h, "plugins", "forge.json"), "utf8"));
    assert.equal(stored.schema_version, undefined);
    assert.equal(stored.authType, "oauth2");
    assert.deepEqual((await registry.get("forge")).flows, ["pkce", "device_code"]);
  });

  test(".ts module with a type-only import", async () => {
    const registry = createRegistry({ home: await freshHome() });
    const plugin = await registry.install(join(fixtures, "typed-module.ts"));
    assert.equal(plugin.name, "gadget");
    assert.equal((await registry.get("gadget")).inject[0]?.name, "key");
  });

  test(".ts module importing definePlugin from authsome/plugin", async () => {
    const registry = createRegistry({ home: await freshHome() });
    assert.equal((await registry.install(join(fixtures, "define-module.ts"))).name, "doohickey");
  });

  test(".ts modules outside the repository (no node_modules up the tree) install too", async () => {
    const dir = await mkdtemp(join(tmpdir(), "authsome-registry-outside-"));
    try {
      for (const name of ["define-module.ts", "typed-module.ts"]) await writeFile(join(dir, name), await readFile(join(fixtures, name)));
      const h = await freshHome();
      const registry = createRegistry({ home: h });
      assert.equal((await registry.install(join(dir, "define-module.ts"))).name, "doohickey");
      assert.equal((await registry.install(join(dir, "typed-module.ts"))).name, "gadget");
      assert.deepEqual((await readdir(join(h, "plugins"))).sort(), ["doohickey.json", "gadget.json"], "stored as data, no compiled code left");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("npm package (local directory spec, no network)", async () => {
    // Restored after: Deno runs test files in parallel in one process, whose environment the
    // CLI tests pass on to their children (providers-npm-name's npm then ran offline).
    const before = process.env["npm_config_offline"];
    process.env["npm_config_offline"] = "true";
    try {
      const h = await freshHome();
      const registry = createRegistry({ home: h });
      const plugin = await registry.install(join(fixtures, "npm-plugin"));
      assert.equal(plugin.name, "thingamajig");
      const stored = JSON.parse(await readFile(join(h, "plugins", "thingamajig.json"), "utf8"));
      assert.equal(stored.$source, join(fixtures, "npm-plugin"));
    } finally {
      if (before === undefined) delete process.env["npm_config_offline"];
      else process.env["npm_config_offline"] = before;
    }
  });

  test("a name clash is refused with provider_exists, unless forced", async () => {
    const registry = createRegistry({ home: await freshHome() });
    const dir = await mkdtemp(join(home, "src-"));
    const openai = join(dir, "openai.json");
    await writeFile(openai, JSON.stringify({ name: "openai", authType: "api_key", inject: [{ host: "proxy.corp.example" }] }));
    await assert.rejects(registry.install(openai), isCode("provider_exists", "openai", "bundled"));
    await registry.install(join(fixtures, "native-widget.json"));
    await assert.rejects(registry.install(join(fixtures, "native-widget.json")), isCode("provider_exists", "widget", "installed"));
    await registry.install(join(fixtures, "native-widget.json"), { force: true });
    await registry.install(openai, { force: true });
    const listed = await registry.list();
    assert.equal(listed.sources["openai"], "installed");
    assert.equal(listed.sources["anthropic"], "bundled");
    assert.equal((await registry.get("openai")).inject[0]?.host, "proxy.corp.example");
    await registry.remove("openai");
    assert.equal((await registry.get("openai")).inject[0]?.host, "api.openai.com", "bundled one is back");
  });

  test("bad sources are refused with the file and field named, nothing written", async () => {
    const h = await freshHome();
    const registry = createRegistry({ home: h });
    const dir = await mkdtemp(join(home, "bad-"));
    const cases: [string, unknown, string][] = [
      ["wrong-type.json", { name: "w", authType: "api_key", inject: "api.w.example" }, 'field "inject"'],
      ["missing.json", { name: "m", inject: [] }, 'field "authType": required'],
      ["auth.json", { name: "a", authType: "bearer", inject: [] }, 'field "authType": must be one of'],
      ["regex.json", { name: "r", authType: "api_key", inject: [{ host: "regex:([" }] }, 'field "inject[0].host": invalid regex'],
      ["v1-regex.json", { schema_version: 1, name: "v", display_name: "V", auth_type: "api_key", flow: "api_key", host_url: "regex:(" }, 'field "host_url": invalid regex'],
    ];
    for (const [file, content, expected] of cases) {
      await writeFile(join(dir, file), JSON.stringify(content));
      await assert.rejects(registry.install(join(dir, file)), isCode("plugin_invalid", join(dir, file), expected));
    }
    await assert.rejects(registry.install(join(dir, "absent.json")), isCode("usage", "absent.json"));
    await writeFile(join(dir, "nodefault.mjs"), "export const x = 1;\n");
    await assert.rejects(registry.install(join(dir, "nodefault.mjs")), isCode("plugin_invalid", "no default export"));
    await writeFile(join(dir, "syntax.ts"), "export default {\n  name: 'syntax',\n  authType: 'api_key' inject: [],\n};\n");
    await assert.rejects(registry.install(join(dir, "syntax.ts")), isCode("plugin_invalid", join(dir, "syntax.ts"), "syntax error at line 3"));
    await writeFile(join(dir, "throws.mjs"), "export default { name: 'throws', authType: 'api_key', inject: [] };\nthrow new Error('no');\n");
    await assert.rejects(registry.install(join(dir, "throws.mjs")), isCode("plugin_invalid", join(dir, "throws.mjs"), "line 2"));
    assert.deepEqual(await registry.names(), (await createRegistry({ home: await freshHome() }).names()), "nothing installed");
  });
});

describe("list and get", () => {
  test("bad installed files are reported with file and field; the rest still list", async () => {
    const h = await freshHome();
    const registry = createRegistry({ home: h });
    await registry.install(join(fixtures, "native-widget.json"));
    const dir = join(h, "plugins");
    await mkdir(dir, { recursive: true });
    const bad: Record<string, unknown> = {
      "wrongtype": { name: "wrongtype", authType: "api_key", inject: [{ host: 7 }] },
      "missing": { name: "missing", authType: "api_key" },
      "unknownauth": { name: "unknownauth", authType: "hmac", inject: [] },
      "badregex": { name: "badregex", authType: "api_key", inject: [{ host: "regex:a(" }] },
      "misnamed": { name: "other", authType: "api_key", inject: [] },
      "stripe": { name: "stripe", authType: "api_key", inject: [{ host: "regex:)" }] },
    };
    for (const [name, content] of Object.entries(bad)) await writeFile(join(dir, `${name}.json`), JSON.stringify(content));
    await writeFile(join(dir, "notjson.json"), "{ nope");
    await writeFile(join(dir, ".widget.json.tmp-1-abc"), "partial");

    const { plugins, errors, sources } = await registry.list();
    const names = plugins.map((p) => p.name);
    assert.ok(names.includes("widget") && names.includes("openai") && names.includes("anthropic"));
    for (const name of Object.keys(bad)) assert.ok(!names.includes(name), `${name} must not be half-loaded`);
    assert.equal(sources["widget"], "installed");
    const bySource = new Map(errors.map((e) => [e.source, e.message]));
    const expect = (name: string, fragment: string): void => {
      const message = bySource.get(join(dir, `${name}.json`));
      assert.ok(message?.includes(join(dir, `${name}.json`)) && message.includes(fragment), `${name}: ${message}`);
    };
    expect("wrongtype", 'field "inject[0].host": expected string');
    expect("missing", 'field "inject": required');
    expect("unknownauth", 'field "authType"');
    expect("badregex", 'field "inject[0].host": invalid regex');
    expect("misnamed", 'field "name"');
    expect("stripe", "invalid regex");
    expect("notjson", "invalid JSON");
    assert.equal(errors.length, 7);
    assert.deepEqual(names, [...names].sort(), "sorted");

    await assert.rejects(registry.get("badregex"), isCode("plugin_invalid", "badregex.json", "inject[0].host"));
    await assert.rejects(registry.get("stripe"), isCode("plugin_invalid"), "a broken override never falls back silently");
  });

  test("an installed FIFO or an oversized file is refused at once, not read (a FIFO read blocks forever)", { skip: process.platform === "win32", timeout: 10_000 }, async () => {
    const h = await freshHome();
    const registry = createRegistry({ home: h });
    const dir = join(h, "plugins");
    await mkdir(dir, { recursive: true });
    const { spawnSync } = await import("node:child_process");
    assert.equal(spawnSync("mkfifo", [join(dir, "fifo.json")]).status, 0);
    await writeFile(join(dir, "huge.json"), `{"name":"huge","authType":"api_key","inject":[],"x":"${"a".repeat(1024 * 1024)}"}`);
    const { errors, plugins } = await registry.list();
    const bySource = new Map(errors.map((e) => [e.source, e.message]));
    assert.match(bySource.get(join(dir, "fifo.json")) ?? "", /not a regular file/);
    assert.match(bySource.get(join(dir, "huge.json")) ?? "", /larger than 1024 KiB/);
    assert.ok(plugins.some((p) => p.name === "openai"), "the rest still list");
    await assert.rejects(registry.get("fifo"), isCode("plugin_invalid", "fifo.json", "not a regular file"));
  });

  test("get: unknown names list close ones; path-like names are not found", async () => {
    const registry = createRegistry({ home: await freshHome() });
    await assert.rejects(registry.get("opena"), isCode("provider_not_found", "\"opena\"", "\"openai\""));
    await assert.rejects(registry.get("../../etc/passwd"), isCode("provider_not_found"));
    assert.equal((await registry.get("anthropic")).name, "anthropic");
  });

  test("get imports only the plugin asked for", async () => {
    const loaded: string[] = [];
    const bundled = {
      one: async () => { loaded.push("one"); return { default: { name: "one", authType: "api_key" as const, inject: [] } }; },
      two: async () => { loaded.push("two"); return { default: { name: "two", authType: "api_key" as const, inject: [] } }; },
    };
    const registry = createRegistry({ home: await freshHome(), bundled });
    assert.deepEqual(await registry.names(), ["one", "two"]);
    assert.deepEqual(loaded, []);
    await registry.get("two");
    assert.deepEqual(loaded, ["two"]);
  });
});

describe("remove", () => {
  test("removes installed plugins; bundled and unknown ones are errors", async () => {
    const registry = createRegistry({ home: await freshHome() });
    await registry.install(join(fixtures, "v1-acme-crm.json"));
    await registry.remove("acme-crm");
    await assert.rejects(registry.get("acme-crm"), isCode("provider_not_found"));
    await assert.rejects(registry.remove("acme-crm"), isCode("provider_not_found"));
    await assert.rejects(registry.remove("openai"), isCode("usage", "bundled"));
  });
});
