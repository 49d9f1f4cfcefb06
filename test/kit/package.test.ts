/**
 * `authsome-broker/kit` from the installed package, as a third-party plugin author imports it: a
 * consumer script (Node, or `deno run`) runs the conformance suite in-process on a plugin object
 * and on the files `initPlugin` writes, and a strict TypeScript consumer compiles against the
 * kit's published types (with a deliberate error, to prove the check can fail).
 */
import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { tempHome } from "../helpers/cli.ts";
import { consumerScratch, packageSkip, runBounded, runConsumerScript } from "../helpers/package.ts";
import { repoRoot } from "../helpers/spawn-runtime.ts";

const script = `
import { CHECK_NAMES, definePlugin, formatReport, initPlugin, testPlugin, testPluginSource } from "authsome-broker/kit";
const plugin = definePlugin({ name: "kit-acme", authType: "api_key", inject: [{ host: "api.kit-acme.example" }], env: { KIT_ACME_API_KEY: "api_key" } });
const object = await testPlugin(plugin, "inline");
const files = await initPlugin("kit-init", process.cwd());
const file = await testPluginSource(files.plugin);
const broken = await testPlugin({ name: "kit-bad", authType: "api_key", inject: [{ host: "*.com" }] }, "inline", { live: false });
console.log(JSON.stringify({ names: CHECK_NAMES, object, file, broken, text: formatReport(object) }));
`;

interface Report {
  ok: boolean;
  plugin: string | null;
  checks: { check: string; ok: boolean; skipped?: boolean }[];
}

test("a consumer script imports authsome-broker/kit and runs the suite, live, on an object and on init's files", { skip: packageSkip }, async () => {
  const home = await tempHome();
  try {
    const dir = await consumerScratch("kit");
    const r = await runConsumerScript(dir, script, home.env, 120_000);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim()) as { names: string[]; object: Report; file: Report; broken: Report; text: string };
    assert.deepEqual(out.names, ["schema", "rule-safety", "placeholders", "env-names", "login", "injection"]);
    for (const report of [out.object, out.file]) {
      assert.equal(report.ok, true, JSON.stringify(report.checks));
      assert.deepEqual(report.checks.map((c) => [c.check, c.ok, c.skipped ?? false]), out.names.map((n) => [n, true, false]));
    }
    assert.equal(out.file.plugin, "kit-init");
    assert.equal(out.broken.ok, false);
    assert.deepEqual(out.broken.checks.filter((c) => !c.ok && c.skipped !== true).map((c) => c.check), ["rule-safety"]);
    assert.match(out.text, /kit-acme: all checks passed$/);
  } finally {
    await home.cleanup();
  }
});

const tsconfig = {
  compilerOptions: { strict: true, module: "NodeNext", moduleResolution: "NodeNext", target: "ES2022", exactOptionalPropertyTypes: true, skipLibCheck: false, lib: ["ES2022"], types: ["node"], noEmit: true },
  include: ["src"],
};

const typedSource = `
import { type CheckName, type ConformanceReport, definePlugin, formatReport, testPlugin } from "authsome-broker/kit";
export const plugin = definePlugin({ name: "acme", authType: "api_key", inject: [{ host: "api.acme.example" }] });
export async function failedChecks(): Promise<CheckName[]> {
  const report: ConformanceReport = await testPlugin(plugin, "acme.ts", { live: false });
  const text: string = formatReport(report);
  return text === "" ? [] : report.checks.filter((c) => !c.ok && c.skipped !== true).map((c) => c.check);
}
`;

async function compile(source: string): Promise<Awaited<ReturnType<typeof runBounded>>> {
  const dir = await consumerScratch("kit-tsc");
  await mkdir(join(dir, "src"));
  await writeFile(join(dir, "tsconfig.json"), JSON.stringify(tsconfig));
  await writeFile(join(dir, "src/main.ts"), source);
  return runBounded("node", [join(repoRoot, "node_modules/typescript/bin/tsc"), "-p", dir], { cwd: dir }, 120_000);
}

test("a strict NodeNext consumer compiles against the kit's published types; a wrong type is reported", { skip: packageSkip }, async () => {
  const good = await compile(typedSource);
  assert.equal(good.stdout + good.stderr, "");
  assert.equal(good.code, 0);
  const bad = await compile(`${typedSource}\nexport const n: number = formatReport(await testPlugin(plugin, "x"));\n`);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stdout, /TS2322: Type 'string' is not assignable to type 'number'/);
});
