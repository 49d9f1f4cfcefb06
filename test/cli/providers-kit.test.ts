/**
 * The plugin-author kit through the installed CLI: `providers init` writes a plugin and its test,
 * `providers test` passes on it (human and --json), its own test file passes under the runtime's
 * test runner, a broken plugin fails the named check with exit 1, a packed npm package
 * (`authsome-plugin-*`, a local tarball: offline) is tested and installed, and `.jsonc` files
 * install while `.json` with comments is refused with the rename hint.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
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
  source: string;
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
    ["env-names, a bundled provider's name", (t) => t.replace("BROKEN_API_KEY:", "OPENAI_API_KEY:"), "env-names", /env\.OPENAI_API_KEY": the bundled provider "[a-z-]+" maps OPENAI_API_KEY too/],
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

test("a bundled provider by name: the same suite the catalogue test runs", async () => {
  const r = await cli(["providers", "test", "stripe", "--json"]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const report = JSON.parse(r.stdout) as Report;
  assert.equal(report.source, "plugins/stripe.ts");
  assert.ok(report.checks.every((c) => c.ok && c.skipped !== true), r.stdout);
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

test("a jsr: package (JSR's HTTP API, here a local stand-in for jsr.io): tested, then installed at its version", async () => {
  const plugin = `import { definePlugin } from "jsr:@authsome/broker/plugin";
export default definePlugin({ name: "widget", authType: "api_key", inject: [{ host: "api.widget.example" }], env: { WIDGET_API_KEY: "api_key" } });
`;
  const files: Record<string, string> = {
    "/@acme/authsome-plugin-widget/meta.json": JSON.stringify({ scope: "acme", name: "authsome-plugin-widget", latest: "1.1.0", versions: { "1.0.0": {}, "1.1.0": {} } }),
    "/@acme/authsome-plugin-widget/1.1.0_meta.json": JSON.stringify({ exports: { ".": "./mod.ts" } }),
    "/@acme/authsome-plugin-widget/1.1.0/mod.ts": plugin,
  };
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(req.url ?? "");
    const body = files[req.url ?? ""];
    res.writeHead(body === undefined ? 404 : 200).end(body ?? "not found");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const env = { ...home.env, AUTHSOME_JSR_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
  try {
    let r = await runCli(["providers", "test", "jsr:@acme/authsome-plugin-widget", "--json"], { env });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal((JSON.parse(r.stdout) as Report).plugin, "widget");
    r = await runCli(["providers", "add", "jsr:@acme/authsome-plugin-widget"], { env });
    assert.equal(r.code, 0, r.stderr);
    const stored = JSON.parse(await readFile(join(home.home, "plugins", "widget.json"), "utf8")) as { $source: string };
    assert.equal(stored.$source, "jsr:@acme/authsome-plugin-widget@1.1.0");
    r = await runCli(["providers", "add", "jsr:@acme/authsome-plugin-widget@9.9.9"], { env });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error: plugin jsr:@acme\/authsome-plugin-widget@9\.9\.9: no version 9\.9\.9 on JSR/m);
    assert.ok(seen.every((url) => url.startsWith("/@acme/authsome-plugin-widget/")), seen.join(" "));
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});
