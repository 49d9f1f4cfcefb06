// Runs every test file on Node and on Deno (`node scripts/test.mjs [node|deno] [filter...]`).
// Node 20's `--test <dir>` silently runs nothing for .ts files, so files are listed here.
//
// Tests run what ships: the package is built, packed (`npm pack`) and installed from the tarball
// into a temporary consumer project, offline, once per run; AUTHSOME_TEST_PACKAGE names the
// installed package (test/helpers/cli.ts runs its bin) and AUTHSOME_TEST_CONSUMER the project.
// Set AUTHSOME_TEST_PACKAGE yourself to reuse an installed package (no build, no pack).
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const which = process.argv[2] ?? "both";
const filter = process.argv.slice(3);

function listTests(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...listTests(path));
    else if (name.endsWith(".test.ts")) out.push(path);
  }
  return out;
}

/** Runs a setup step; its output is shown only when it fails. */
function step(what, cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { encoding: "utf8", ...options });
  if (r.status !== 0) {
    process.stderr.write(`${r.stdout ?? ""}${r.stderr ?? ""}\ntest: ${what} failed (exit ${r.status})\n`);
    process.exit(r.status || 1);
  }
  return r.stdout;
}

/**
 * Packs the package and installs the tarball into a fresh consumer project. Offline: the one
 * runtime dependency (ioredis) comes from npm's cache, which the clone's `npm install` filled.
 * npm asks for the full registry document when installing a package by name, which `npm install`
 * from a lock file does not cache: the first run on a new machine may fetch it once.
 */
function installPackedPackage(root) {
  const packDir = join(root, "pack");
  const consumer = join(root, "consumer");
  mkdirSync(packDir);
  mkdirSync(consumer);
  const packed = JSON.parse(step("npm pack", "npm", ["pack", "--json", "--pack-destination", packDir]));
  const tarball = join(packDir, packed[0].filename);
  writeFileSync(join(consumer, "package.json"), JSON.stringify({ name: "authsome-consumer", version: "1.0.0", private: true, type: "module" }, null, 2));
  const install = ["install", "--no-audit", "--no-fund", "--no-save", tarball];
  const offline = spawnSync("npm", [...install, "--offline"], { cwd: consumer, encoding: "utf8" });
  if (offline.status !== 0) {
    if (!/ENOTCACHED/.test(offline.stderr)) step("npm install --offline", "npm", [...install, "--offline"], { cwd: consumer });
    process.stderr.write("test: the npm cache lacks a registry document; filling it once (--prefer-offline)\n");
    step("npm install --prefer-offline", "npm", [...install, "--prefer-offline"], { cwd: consumer });
  }
  // The consumer type-check (test/package/types.test.ts) needs @types/node; link the repo's.
  mkdirSync(join(consumer, "node_modules/@types"), { recursive: true });
  symlinkSync(resolve("node_modules/@types/node"), join(consumer, "node_modules/@types/node"), "dir");
  return { consumer, pkg: join(consumer, "node_modules/authsome-broker"), tarball };
}

let files = listTests("test");
if (filter.length > 0) files = files.filter((f) => filter.some((part) => f.includes(part)));
if (files.length === 0) {
  console.error("no test files matched");
  process.exit(1);
}

const env = { ...process.env };
let scratch;
if (env.AUTHSOME_TEST_PACKAGE === undefined) {
  step("build", process.execPath, ["scripts/build.mjs"], { stdio: ["ignore", "inherit", "inherit"] });
  scratch = mkdtempSync(join(tmpdir(), "authsome-package-"));
  const installed = installPackedPackage(scratch);
  Object.assign(env, { AUTHSOME_TEST_PACKAGE: installed.pkg, AUTHSOME_TEST_CONSUMER: installed.consumer, AUTHSOME_TEST_TARBALL: installed.tarball });
  console.error(`test: packed and installed into ${installed.consumer}`);
}

function run(label, cmd, args) {
  console.error(`\n=== ${label}: ${files.length} test files`);
  const result = spawnSync(cmd, args, { stdio: "inherit", env: { ...env, AUTHSOME_TEST_RUNTIME: label } });
  return result.status ?? 1;
}

let failed = 0;
if (which === "both" || which === "node") {
  failed |= run("node", process.execPath, ["--import", "tsx", "--test", "--test-concurrency=2", ...files]);
}
if (which === "both" || which === "deno") {
  failed |= run("deno", "node_modules/.bin/deno", ["test", "-A", "--no-check", "--parallel", ...files]);
}
if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
process.exit(failed ? 1 : 0);
