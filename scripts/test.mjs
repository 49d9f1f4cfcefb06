// Runs every test file on Node and on Deno (`node scripts/test.mjs [node|deno]`).
// Node 20's `--test <dir>` silently runs nothing for .ts files, so files are listed here.
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

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

let files = listTests("test");
if (filter.length > 0) files = files.filter((f) => filter.some((part) => f.includes(part)));
if (files.length === 0) {
  console.error("no test files matched");
  process.exit(1);
}

function run(label, cmd, args) {
  console.error(`\n=== ${label}: ${files.length} test files`);
  const result = spawnSync(cmd, args, { stdio: "inherit", env: { ...process.env, AUTHSOME_TEST_RUNTIME: label } });
  return result.status ?? 1;
}

const build = spawnSync(process.execPath, ["scripts/build.mjs"], { stdio: "inherit" });
if (build.status !== 0) process.exit(build.status ?? 1);

let failed = 0;
if (which === "both" || which === "node") {
  failed |= run("node", process.execPath, ["--import", "tsx", "--test", "--test-concurrency=2", ...files]);
}
if (which === "both" || which === "deno") {
  failed |= run("deno", "node_modules/.bin/deno", ["test", "-A", "--no-check", "--parallel", ...files]);
}
process.exit(failed ? 1 : 0);
