/**
 * The plugin-author kit through the installed CLI: `providers init` writes a plugin and its test,
 * `providers test` passes on it (human and --json), its own test file passes under the runtime's
 * test runner, a broken plugin fails the named check with exit 1, a packed npm package
 * (`authsome-plugin-*`, a local tarball: offline) is tested and installed, and `.jsonc` files
 * install while `.json` with comments is refused with the rename hint.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { cpSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { cliCommand, collectOutput, runCli, tempHome } from "../helpers/cli.ts";
import { currentRuntime, repoRoot } from "../helpers/spawn-runtime.ts";

let home: Awaited<ReturnType<typeof tempHome>>;
let dir: string;
const cli = (args: string[]) => runCli(args, { env: home.env });

interface Report {
  ok: boolean;
  plugin: string | null;
  checks: { check: string; ok: boolean; skipped?: boolean; message: string }[];
}

before(async () => {
  home = await tempHome();
  dir = await mkdtemp(join(tmpdir(), "authsome-kit-"));
});
after(async () => {
  await home.cleanup();
  await rm(dir, { recursive: true, force: true });
});

describe("providers init, then providers test", () => {
  test("init writes NAME.ts and NAME.test.ts; test passes every check", async () => {
    let r = await cli(["providers", "init", "acme-crm", "--dir", dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(await readFile(join(dir, "acme-crm.ts"), "utf8"), /import \{ definePlugin \} from "authsome\/plugin";/);
    r = await cli(["providers", "init", "acme-crm", "--dir", dir]);
    assert.equal(r.code, 7, "an existing file is not overwritten without --force");
    r = await cli(["providers", "test", join(dir, "acme-crm.ts")]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    for (const check of ["schema", "rule-safety", "placeholders", "env-names", "login", "injection"]) assert.match(r.stdout, new RegExp(`^ok +${check} `, "m"));
    assert.match(r.stdout, /acme-crm: all checks passed/);
    r = await cli(["providers", "test", join(dir, "acme-crm.ts"), "--json"]);
    const report = JSON.parse(r.stdout) as Report;
    assert.equal(report.ok, true);
    assert.equal(report.plugin, "acme-crm");
  });

  test("the generated test file passes under the runtime's own test runner", async () => {
    const { command, args } = cliCommand();
    const runner = currentRuntime() === "deno" ? [process.execPath, "test", "-A", "--no-check"] : [process.execPath, "--import", "tsx", "--test"];
    const [program = "", ...rest] = runner;
    const child = spawn(program, [...rest, join(dir, "acme-crm.test.ts")], {
      cwd: repoRoot,
      env: { ...process.env, ...home.env, AUTHSOME_BIN: [command, ...args].join(" "), NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const r = await collectOutput(child);
    assert.equal(r.code, 0, r.stdout + r.stderr);
  });
});

describe("a broken plugin fails the named check (exit 1)", () => {
  const cases: [string, (text: string) => string, string, RegExp][] = [
    ["rule-safety", (t) => t.replace("host: \"api.broken.example\"", "host: \"regex:.*\""), "rule-safety", /inject\[0\]\.host.*matches hosts of any domain/],
    ["env-names", (t) => t.replace("BROKEN_API_KEY:", "broken_api_key:"), "env-names", /env\.broken_api_key.*UPPER_SNAKE/],
    ["placeholders", (t) => t.replace("format: \"Bearer {token}\"", "format: \"Bearer {password}\""), "placeholders", /\{password\} is never set for authType "api_key"/],
    ["schema", (t) => t.replace("authType: \"api_key\"", "authType: \"apikey\""), "schema", /field "authType": must be one of/],
  ];
  for (const [label, edit, check, message] of cases) {
    test(label, async () => {
      assert.equal((await cli(["providers", "init", "broken", "--dir", dir, "--force"])).code, 0);
      const file = join(dir, "broken.ts");
      await writeFile(file, edit(await readFile(file, "utf8")));
      let r = await cli(["providers", "test", file]);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stdout, new RegExp(`^FAIL ${check} `, "m"));
      assert.match(r.stdout, new RegExp(`failed ${check}$`, "m"));
      r = await cli(["providers", "test", file, "--json"]);
      assert.equal(r.code, 1);
      const failed = (JSON.parse(r.stdout) as Report).checks.filter((c) => !c.ok && c.skipped !== true);
      assert.deepEqual(failed.map((c) => c.check), [check]);
      assert.match(failed[0]?.message ?? "", message);
    });
  }
});

test("an npm package by the naming convention, packed to a local tarball: tested, then installed", async () => {
  const pkg = join(dir, "authsome-plugin-thingamajig");
  cpSync(join(repoRoot, "test/fixtures/plugins/npm-plugin"), pkg, { recursive: true });
  const pack = await collectOutput(spawn("npm", ["pack", "--silent", "--pack-destination", dir], { cwd: pkg, stdio: ["ignore", "pipe", "pipe"] }));
  assert.equal(pack.code, 0, pack.stderr);
  const tarball = join(dir, pack.stdout.trim().split("\n").at(-1) ?? "");
  let r = await cli(["providers", "test", tarball, "--json"]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal((JSON.parse(r.stdout) as Report).plugin, "thingamajig");
  r = await cli(["providers", "add", tarball]);
  assert.equal(r.code, 0, r.stderr);
  r = await cli(["providers", "list", "--json"]);
  assert.ok((JSON.parse(r.stdout) as { providers: { name: string; source: string }[] }).providers.some((p) => p.name === "thingamajig" && p.source === "installed"));
});

test(".jsonc installs; .json with comments is refused naming file, line and the rename", async () => {
  const jsonc = join(repoRoot, "test/fixtures/plugins/v1-forge-flat.jsonc");
  let r = await cli(["providers", "add", jsonc]);
  assert.equal(r.code, 0, r.stderr);
  r = await cli(["inspect", "forge-flat", "--json"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /GH_STYLE_TOKEN/);
  const asJson = join(dir, "forge.json");
  await writeFile(asJson, await readFile(jsonc, "utf8"));
  r = await cli(["providers", "add", asJson]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^error: plugin .*forge\.json:1:1: a comment, which JSON does not allow: rename the file to \.jsonc/m);
});
