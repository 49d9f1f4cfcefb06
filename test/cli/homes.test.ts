/**
 * Homes that cannot be created or used (issue 11): one line naming the path and a non-zero exit
 * at once, through the installed CLI. `AUTHSOME_HOME=/proc/nope` used to hang Node forever (its
 * recursive mkdir loops on ENOENT); a home under a file gave "unexpected failure".
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { runCliBounded, type BoundedResult } from "../helpers/bounded-cli.ts";
import type { CliResult } from "../helpers/cli.ts";

let dir = "";
const KEY = "b2".repeat(32);
const baseEnv = { AUTHSOME_PROFILE: "", AUTHSOME_STORAGE: "", AUTHSOME_MASTER_KEY: KEY };
// Each run must end by itself well before this; the bound only turns a hang into a failure.
const LIMIT_MS = 15_000;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "authsome-homes-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs the CLI with `home`, killed after LIMIT_MS (then the test fails naming the hang). */
async function withHome(home: string, args: string[], wrap?: string[]): Promise<BoundedResult> {
  const r = await runCliBounded(args, { env: { ...baseEnv, AUTHSOME_HOME: home }, limitMs: LIMIT_MS, ...(wrap === undefined ? {} : { wrap }) });
  assert.ok(!r.killed, `authsome ${args.join(" ")} with AUTHSOME_HOME=${home} still running after ${LIMIT_MS} ms`);
  return r;
}

/** One error line naming `named`, the hint line at most, exit 1, no "unexpected failure". */
function assertRefused(r: CliResult, named: string, problem: RegExp): void {
  assert.equal(r.code, 1, r.stderr);
  const lines = r.stderr.trimEnd().split("\n");
  assert.ok(lines.length <= 2, r.stderr);
  assert.ok(lines[0]?.startsWith("error: ") && lines[0].includes(named), r.stderr);
  assert.match(lines[0] ?? "", problem);
  assert.ok(!/unexpected failure/.test(r.stderr), r.stderr);
}

test("AUTHSOME_HOME=/proc/nope fails at once instead of hanging", { skip: !existsSync("/proc/self") }, async () => {
  for (const args of [["list"], ["login", "openai", "--connection", "x"], ["providers", "list"]]) {
    const r = await withHome("/proc/nope", args);
    assertRefused(r, "/proc/nope", /cannot be created|cannot create directory|not writable|refuses/);
    assert.ok(r.ms < 10_000, `${args.join(" ")} took ${Math.round(r.ms)} ms`);
  }
});

test("a home that is a file, or under a file, is named with what is wrong", async () => {
  const file = join(dir, "a-file");
  await writeFile(file, "not a directory\n");
  assertRefused(await withHome(file, ["list"]), file, /is not a directory/);
  assertRefused(await withHome(join(file, "sub"), ["list"]), `${file} is not a directory`, /cannot be created/);
  assertRefused(await withHome(join(file, "a", "b"), ["whoami"]), `${file} is not a directory`, /cannot be created/);
  const json = await withHome(file, ["list", "--json"]);
  assert.equal(json.code, 1);
  assert.deepEqual(Object.keys(JSON.parse(json.stdout) as object).sort(), ["error", "hint", "message"]);
  assert.equal((JSON.parse(json.stdout) as { error: string }).error, "storage_failed");
});

/**
 * Runs the CLI with AUTHSOME_HOME=`home` while `mounted` is read-only: as root, permissions do
 * not stop writes, so it is bind-mounted read-only in a private mount namespace (`unshare -m`);
 * as another user, mode 0500 does it.
 */
async function readOnlyRun(mounted: string, home: string, args: string[]): Promise<CliResult> {
  if (process.getuid?.() !== 0) {
    spawnSync("chmod", ["0500", mounted]);
    try {
      return await withHome(home, args);
    } finally {
      spawnSync("chmod", ["0700", mounted]);
    }
  }
  return withHome(home, args, ["unshare", "-m", "sh", "-c", 'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" && exec "$@"', mounted]);
}

const canMountReadOnly = process.getuid?.() !== 0 || spawnSync("unshare", ["-m", "true"]).status === 0;

test("a read-only home, or a missing home under a read-only directory, is refused in one line", { skip: !canMountReadOnly && "needs unshare -m as root" }, async () => {
  const home = join(dir, "ro-home");
  await mkdir(home);
  assertRefused(await readOnlyRun(home, home, ["list"]), home, /is not writable \((EROFS|EACCES)\)/);
  const parent = join(dir, "ro-parent");
  await mkdir(parent);
  assertRefused(await readOnlyRun(parent, join(parent, "home"), ["list"]), `${parent} is not writable`, /cannot be created/);
});

test("a usable home still works after all of that", async () => {
  const home = join(dir, "fine", "nested", "home");
  const r = await withHome(home, ["list"]);
  assert.equal(r.code, 0, r.stderr);
  const login = await runCliBounded(["login", "openai"], { env: { ...baseEnv, AUTHSOME_HOME: home }, input: "sk-home-test-1234567890\n", limitMs: LIMIT_MS });
  assert.equal(login.code, 0, login.stderr);
});
