/**
 * The installed package as users meet it: what the tarball holds, and the `authsome` bin that
 * npm linked into the consumer project logging in and reading a credential back.
 */
import assert from "node:assert/strict";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { after, before, test } from "node:test";
import { installedPackage, tempHome } from "../helpers/cli.ts";
import { consumer, consumerScratch, packageSkip, runBounded } from "../helpers/package.ts";
import { currentRuntime } from "../helpers/spawn-runtime.ts";

let home: Awaited<ReturnType<typeof tempHome>>;
before(async () => {
  home = await tempHome();
});
after(() => home.cleanup());

async function listFiles(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath, e.name)));
}

/** `authsome <args>` as the consumer runs it: the linked bin on Node, the npm package on Deno. */
function authsome(args: string[], input?: string): ReturnType<typeof runBounded> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...process.env, ...home.env, NO_COLOR: "1", BROWSER: "false" })) if (v !== undefined) env[k] = v;
  const bin = join(consumer(), "node_modules/.bin/authsome");
  if (currentRuntime() === "deno") return runBounded(process.execPath, ["run", "-A", bin, ...args], { cwd: consumer(), env, ...(input === undefined ? {} : { input }) });
  return runBounded(bin, args, { cwd: consumer(), env, ...(input === undefined ? {} : { input }) });
}

test("the tarball ships the bin, the bundle without source maps, the types, LICENSE and README only", { skip: packageSkip }, async () => {
  const pkgDir = installedPackage!;
  const files = await listFiles(pkgDir);
  assert.ok(files.includes("bin/authsome.mjs") && files.includes("dist/cli.mjs") && files.includes("dist/intercept/preload.mjs"));
  assert.ok(files.includes("LICENSE") && files.includes("README.md") && files.includes("package.json"));
  assert.ok(files.includes("dist/types/src/index.d.ts") && files.includes("dist/types/src/plugin.d.ts") && files.includes("dist/types/src/intercept/index.d.ts"));
  assert.deepEqual(files.filter((f) => f.endsWith(".map")), [], "no source maps");
  assert.deepEqual(files.filter((f) => /^(src|test|scripts|bench|docs|plugins)\//.test(f) || f.endsWith(".ts") && !f.endsWith(".d.ts")), [], "no sources, tests or scripts");
  const manifest = JSON.parse(await readFile(join(pkgDir, "package.json"), "utf8")) as { name: string; bin: Record<string, string>; dependencies: Record<string, string>; scripts?: Record<string, string>; exports: Record<string, unknown>; license: string; repository: unknown };
  assert.equal(manifest.name, "authsome-broker");
  assert.deepEqual(manifest.bin, { authsome: "bin/authsome.mjs" });
  assert.deepEqual(Object.keys(manifest.dependencies), ["ioredis"], "everything else is bundled");
  for (const hook of ["preinstall", "install", "postinstall", "prepare"]) assert.equal(manifest.scripts?.[hook], undefined, `no ${hook} script runs (or warns) at a consumer's install`);
  assert.ok("./package.json" in manifest.exports);
  assert.equal(manifest.license, "MIT");
  assert.ok(manifest.repository);
});

test("the installed `authsome` logs in with a key from stdin and reads it back", { skip: packageSkip }, async () => {
  const login = await authsome(["login", "openai"], "sk-package-test-0000000000000000");
  assert.equal(login.code, 0, login.stderr);
  const status = await authsome(["get", "openai", "--field", "status"]);
  assert.equal(status.code, 0, status.stderr);
  assert.equal(status.stdout.trim(), "connected");
  const key = await authsome(["get", "openai", "--field", "api_key", "--show-secret"]);
  assert.equal(key.stdout.trim(), "sk-package-test-0000000000000000");
  const listed = await authsome(["list", "--json"]);
  assert.equal(listed.code, 0, listed.stderr);
  assert.equal(listed.stdout.includes("\u001b"), false, "no escape codes in piped output");
  JSON.parse(listed.stdout);
});

test("a .ts plugin outside any project, importing authsome-broker/plugin, is added through the installed CLI", { skip: packageSkip }, async () => {
  const dir = await consumerScratch("plugin");
  const file = join(dir, "my-provider.ts");
  await writeFile(file, [
    'import { definePlugin } from "authsome-broker/plugin";',
    'const host: string = "api.my-provider.example";',
    'export default definePlugin({ name: "my-provider", authType: "api_key", inject: [{ host }] });',
    "",
  ].join("\n"));
  const added = await authsome(["providers", "add", file]);
  assert.equal(added.code, 0, added.stderr);
  const login = await authsome(["login", "my-provider"], "my-provider-key");
  assert.equal(login.code, 0, login.stderr);
  const got = await authsome(["get", "my-provider", "--field", "api_key", "--show-secret"]);
  assert.equal(got.stdout.trim(), "my-provider-key");
});
