/**
 * TypeScript and JavaScript provider plugins written anywhere on disk, installed through the
 * real CLI (`providers add`), then used by `list`, `login` and `export`, on Node and on Deno.
 * Each plugin lives in a fresh temporary directory with no node_modules up the tree, as a
 * user's `my-provider.ts` does.
 */
import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { pathToFileURL } from "node:url";
import { cliCommand, runCli, tempHome } from "../helpers/cli.ts";
import { currentRuntime } from "../helpers/spawn-runtime.ts";

let home: Awaited<ReturnType<typeof tempHome>>;
let dir = "";
const cli = (args: string[], input?: string) => runCli(args, { env: home.env, ...(input === undefined ? {} : { input }) });

before(async () => {
  home = await tempHome();
  dir = await mkdtemp(join(tmpdir(), "authsome-plugin-author-"));
});
after(async () => {
  await home.cleanup();
  await rm(dir, { recursive: true, force: true });
});

/** An api_key provider named `name` whose env mapping is `<NAME>_KEY`. */
function body(name: string): string {
  return `{\n  name: "${name}",\n  authType: "api_key",\n  inject: [{ host: "api.${name}.example" }],\n  env: { ${name.toUpperCase()}_KEY: "api_key" },\n}`;
}

const PLUGINS: Record<string, string> = {
  "define.ts": `import { definePlugin } from "authsome/plugin";\nconst host: string = "x";\nexport default definePlugin(${body("definets")});\n`,
  "broker.ts": `import { definePlugin, type ProviderPlugin } from "authsome-broker/plugin";\nconst p: ProviderPlugin = definePlugin(${body("brokerts")});\nexport default p;\n`,
  "plain.ts": `interface Unused { a: number }\nexport default ${body("plaints")} as const;\n`,
  "typeonly.ts": `import type { ProviderPlugin } from "authsome/plugin";\nexport default ${body("typeonly")} satisfies ProviderPlugin;\n`,
  "define.mjs": `import { definePlugin } from "authsome-broker/plugin";\nexport default definePlugin(${body("definemjs")});\n`,
  "plain.js": `export default ${body("plainjs")};\n`,
};

async function writePlugin(name: string, code: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, code);
  return path;
}

test("providers add: .ts and .js plugins importing authsome/plugin, authsome-broker/plugin, types only, or nothing", async () => {
  for (const [file, code] of Object.entries(PLUGINS)) {
    const r = await cli(["providers", "add", await writePlugin(file, code)]);
    assert.equal(r.code, 0, `${file}: ${r.stderr}`);
  }
  const r = await cli(["providers", "list", "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const { providers } = JSON.parse(r.stdout) as { providers: { name: string; source: string }[] };
  for (const name of ["definets", "brokerts", "plaints", "typeonly", "definemjs", "plainjs"]) {
    assert.equal(providers.find((p) => p.name === name)?.source, "installed", name);
  }
  const stored = (await readdir(join(home.home, "plugins"))).sort();
  assert.deepEqual(stored, ["brokerts.json", "definemjs.json", "definets.json", "plainjs.json", "plaints.json", "typeonly.json"], "data only: no compiled module kept");
});

test("an installed .ts plugin is a provider like any other: login from stdin, list, export", async () => {
  const r0 = await cli(["providers", "add", await writePlugin("story.ts", `import { definePlugin } from "authsome/plugin";\nexport default definePlugin(${body("story")});\n`)]);
  assert.equal(r0.code, 0, r0.stderr);
  let r = await cli(["login", "story"], "story-key-123");
  assert.equal(r.code, 0, r.stderr);
  r = await cli(["list", "--json"]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.stdout.includes("\"story\""), r.stdout);
  r = await cli(["export", "story", "--format", "env"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), "STORY_KEY=story-key-123");
});

test("a .ts plugin with a syntax error, or one that throws, is refused in one line naming the file; nothing installed", async () => {
  const cases: [string, string, RegExp][] = [
    ["syntax.ts", `export default {\n  name: "syntax"\n  authType: "api_key",\n};\n`, /syntax\.ts: syntax error at line 3, column \d+/],
    ["throws.ts", `const n: number = 1;\nthrow new Error("refusing to load");\nexport default ${body("throws")};\n`, /throws\.ts: cannot load module \(line 2: refusing to load\)/],
    ["relative.ts", `import { x } from "./helper.ts";\nexport default x;\n`, /relative\.ts: imports "\.\/helper\.ts"/],
  ];
  const before = await readdir(join(home.home, "plugins")).catch(() => []);
  for (const [file, code, expected] of cases) {
    const path = await writePlugin(file, code);
    const r = await cli(["providers", "add", path]);
    assert.equal(r.code, 1, `${file}: ${r.stderr}`);
    const [first] = r.stderr.split("\n");
    assert.match(first ?? "", expected);
    assert.ok(first?.includes(path), `names the file: ${first}`);
    assert.ok(!r.stderr.includes("    at "), `no stack trace: ${r.stderr}`);
  }
  assert.deepEqual(await readdir(join(home.home, "plugins")).catch(() => []), before, "never half-installed");
});

/**
 * The bundle keeps sucrase and es-module-lexer in chunks of their own: a resolve hook records
 * every module the CLI loads. Node only: Deno runs src/ and has no loader hooks.
 */
test("`get` loads no compiler; `providers add x.ts` does", { skip: currentRuntime() === "deno" ? "Deno has no loader hooks (NODE_OPTIONS is ignored)" : false }, async () => {
  const log = join(dir, "modules.log");
  const hooks = await writePlugin("hooks.mjs", `import { appendFileSync } from "node:fs";\nexport async function resolve(s, c, next) { const r = await next(s, c); appendFileSync(${JSON.stringify(log)}, r.url + "\\n"); return r; }\n`);
  const register = await writePlugin("register.mjs", `import { register } from "node:module";\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);
  const { command, args } = cliCommand();
  const traced = async (cliArgs: string[], input?: string): Promise<string[]> => {
    await writeFile(log, "");
    const r = await runCli(cliArgs, { env: { ...home.env, NODE_OPTIONS: `--import ${pathToFileURL(register).href}` }, ...(input === undefined ? {} : { input }) });
    assert.equal(r.code, 0, `${command} ${args.join(" ")} ${cliArgs.join(" ")}: ${r.stderr}`);
    return (await readFile(log, "utf8")).split("\n").filter((l) => l !== "");
  };
  const compiler = /plugin-module|strip-types|sucrase|lexer/;
  const added = await traced(["providers", "add", await writePlugin("cold.ts", `export default ${body("cold")};\n`)]);
  assert.ok(added.some((url) => compiler.test(url)), `control: providers add loads the compiler chunks (${added.length} modules)`);
  await traced(["login", "cold"], "cold-key");
  const got = await traced(["get", "cold", "--json"]);
  assert.ok(got.length > 0, "the hook saw the CLI's modules");
  assert.deepEqual(got.filter((url) => compiler.test(url)), []);
});
