/**
 * Hostile plugins through the installed CLI (issue 11): JSON files with wrong types, and module
 * plugins that loop, exit, throw, flood stdout or read the environment at import. Each is one
 * error naming the file, nothing is installed, and the CLI keeps working.
 */
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { runCliBounded } from "../helpers/bounded-cli.ts";
import { tempHome, type CliResult } from "../helpers/cli.ts";
import { currentRuntime } from "../helpers/spawn-runtime.ts";

const MASTER_KEY = "a1".repeat(32);
let home: Awaited<ReturnType<typeof tempHome>>;
let dir = "";
const env = (): Record<string, string> => ({ ...home.env, AUTHSOME_MASTER_KEY: MASTER_KEY, AUTHSOME_PLUGIN_TIMEOUT: "2" });
// Bounded: a regression back to an in-process import would hang `providers add` forever.
const cli = async (args: string[], extra: Record<string, string> = {}): Promise<CliResult> => {
  const r = await runCliBounded(args, { env: { ...env(), ...extra }, limitMs: 30_000 });
  assert.ok(!r.killed, `authsome ${args.join(" ")} still running after 30 s`);
  return r;
};
const BOUND = { timeout: 60_000 };

before(async () => {
  home = await tempHome();
  dir = await mkdtemp(join(tmpdir(), "authsome-hostile-"));
});
after(async () => {
  await home.cleanup();
  await rm(dir, { recursive: true, force: true });
});

async function write(name: string, code: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, code);
  return path;
}

async function installed(): Promise<string[]> {
  return (await readdir(join(home.home, "plugins")).catch(() => [])).filter((f) => f.endsWith(".json")).sort();
}

/** Asserts a failed `providers add` with one error line naming the file and matching `message`. */
async function refused(path: string, message: RegExp): Promise<number> {
  const before = await installed();
  const started = performance.now();
  const r = await cli(["providers", "add", path]);
  const elapsed = performance.now() - started;
  assert.equal(r.code, 1, `${path}: exit ${r.code}\n${r.stderr}`);
  const [first = ""] = r.stderr.split("\n");
  assert.ok(first.includes(path), `names the file: ${first}`);
  assert.match(first, message);
  assert.ok(!/unexpected failure|\n\s+at /.test(r.stderr), r.stderr);
  assert.deepEqual(await installed(), before, "nothing installed");
  return elapsed;
}

const body = (name: string, extra = ""): string =>
  `{ name: "${name}", authType: "api_key", inject: [{ host: "api.${name}.example"${extra} }], env: { ${name.toUpperCase()}_KEY: "api_key" } }`;

test("JSON plugins with wrong types are refused naming file and field (v1 and native)", BOUND, async () => {
  const v1 = { schema_version: 1, name: "v1bad", display_name: "V", auth_type: "api_key", flow: "api_key", host_url: "api.v.example" };
  const cases: [string, unknown, RegExp][] = [
    ["v1-apikey-empty.json", { ...v1, api_key: [] }, /field "api_key": expected an object, got an array/],
    ["v1-apikey-list.json", { ...v1, api_key: [1] }, /field "api_key": expected an object, got an array/],
    ["v1-host-empty.json", { ...v1, host_url: [] }, /field "host_url": must list at least one host/],
    ["v1-export-list.json", { ...v1, export: [] }, /field "export": expected .*got an array/],
    ["native-env-list.json", { name: "nativebad", authType: "api_key", inject: [{ host: "a.example" }], env: [] }, /field "env": expected an object, got an array/],
  ];
  for (const [file, json, message] of cases) await refused(await write(file, JSON.stringify(json)), message);
});

test("a plugin that loops at import fails within the time limit, naming the file", BOUND, async () => {
  const elapsed = await refused(await write("loop.ts", `const n: number = 1;\nwhile (n > 0) {}\nexport default ${body("loop")};\n`), /did not finish loading within 2 s/);
  // 2 s limit + two runtime start-ups; the old in-process import never returned at all.
  assert.ok(elapsed < 10_000, `took ${Math.round(elapsed)} ms`);
});

test("process.exit(0), a throw, or a never-settling await at import fail clearly", BOUND, async () => {
  await refused(await write("exit.ts", `process.exit(0);\nexport default ${body("exits")};\n`), /exited with code 0 while loading/);
  await refused(await write("throws.mjs", `export default ${body("throws")};\nthrow new Error("boom at import");\n`), /line 2: boom at import/);
  await refused(await write("hang.mjs", `await new Promise(() => {});\nexport default ${body("hangs")};\n`), /hang\.mjs: (the module exited|cannot load|the module did not finish)/);
});

test("non-JSON values and floods of output are refused", BOUND, async () => {
  await refused(await write("fn.mjs", `export default ${body("fn", ", format: () => 'Bearer {token}'")};\n`), /field "inject\[0\]\.format": expected JSON data, got a function/);
  await refused(await write("flood.mjs", `process.stdout.write("x".repeat(3 * 1024 * 1024));\nexport default ${body("flood")};\n`), /printed more than 1 MiB/);
});

test("the module's child gets no secrets, and what it prints stays out of the CLI's output", BOUND, async () => {
  const spy = `console.log("noise from the plugin");\nconst seen = JSON.stringify(process.env);\nexport default { ...${body("envspy")}, displayName: "env " + seen };\n`;
  const r = await cli(["providers", "add", await write("spy.mjs", spy), "--json"], { AUTHSOME_PASSPHRASE: "hunter2-passphrase", GITHUB_TOKEN: "ghp_should_not_leak" });
  assert.equal(r.code, 0, r.stderr);
  assert.ok(!r.stdout.includes("noise from the plugin"), r.stdout);
  const shown = await cli(["inspect", "envspy", "--json"]);
  assert.equal(shown.code, 0, shown.stderr);
  for (const secret of [MASTER_KEY, "hunter2-passphrase", "ghp_should_not_leak", "AUTHSOME_"]) assert.ok(!shown.stdout.includes(secret), secret);
  assert.match(shown.stdout, /env \{/);
});

test("on Deno the module cannot write, or read the home", { ...BOUND, skip: currentRuntime() === "deno" ? false : "Deno permissions only: Node runs plugin children without a permission model (docs/plugins.md)" }, async () => {
  const target = join(dir, "written-by-plugin.txt");
  await refused(await write("writer.mjs", `import { writeFileSync } from "node:fs";\nwriteFileSync(${JSON.stringify(target)}, "x");\nexport default ${body("writer")};\n`), /cannot load module/);
  assert.ok(!(await readdir(dir)).includes("written-by-plugin.txt"));
  await writeFile(join(home.home, "secret.txt"), "in the home");
  const reader = `import { readFileSync } from "node:fs";\nconst stolen = readFileSync(${JSON.stringify(join(home.home, "secret.txt"))}, "utf8");\nexport default { ...${body("reader")}, displayName: stolen };\n`;
  await refused(await write("reader.mjs", reader), /cannot load module .*(NotCapable|read access)/i);
});

test("a process the plugin starts at import cannot hold providers add open", BOUND, async () => {
  // The grandchild keeps the child's stdout pipe; Deno refuses the spawn (no --allow-run).
  const code = `import { spawn } from "node:child_process";\nspawn("sleep", ["20"], { stdio: "inherit", detached: true }).unref();\nexport default ${body("spawner")};\n`;
  const started = performance.now();
  const r = await cli(["providers", "add", await write("spawner.mjs", code)]);
  const elapsed = performance.now() - started;
  assert.ok(elapsed < 10_000, `took ${Math.round(elapsed)} ms`);
  if (currentRuntime() === "deno") assert.match(r.stderr, /spawner\.mjs: (cannot load module|the module exited)/);
  else assert.equal(r.code, 0, r.stderr);
  await cli(["providers", "remove", "spawner"]);
});

test("after all of that, a good plugin installs and list works", BOUND, async () => {
  const r = await cli(["providers", "add", await write("good.ts", `import { definePlugin } from "authsome/plugin";\nexport default definePlugin(${body("good")});\n`)]);
  assert.equal(r.code, 0, r.stderr);
  const list = await cli(["list", "--json"]);
  assert.equal(list.code, 0, list.stderr);
  const names = (await installed()).map((f) => f.replace(/\.json$/, ""));
  assert.deepEqual(names, ["envspy", "good"]);
  assert.ok(list.stdout.includes("\"good\""), list.stdout.slice(0, 500));
});
