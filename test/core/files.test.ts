/**
 * files.ts: the bounded mkdir (Node 20's recursive mkdir never returns for /proc/nope) and the
 * home check that refuses, naming the path, a home that is a file or under one.
 */
import assert from "node:assert/strict";
import { existsSync, statSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { AuthsomeError } from "../../src/core/errors.ts";
import { ensureHome, ensurePrivateDir, mkdirBounded, readRegularFile } from "../../src/core/files.ts";

let dir = "";
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "authsome-files-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const refused = (pattern: RegExp) => (error: unknown): boolean => {
  assert.ok(error instanceof AuthsomeError, String(error));
  assert.equal(error.code, "storage_failed");
  assert.match(error.message, pattern);
  return true;
};

test("mkdirBounded creates missing levels (0700) and returns the first it made, like recursive mkdir", async () => {
  const deep = join(dir, "a", "b", "c");
  assert.equal(await mkdirBounded(deep), join(dir, "a"));
  assert.ok(statSync(deep).isDirectory());
  assert.equal(statSync(deep).mode & 0o077, 0);
  assert.equal(await mkdirBounded(deep), undefined);
  await ensurePrivateDir(join(deep, "d"));
  assert.ok(existsSync(join(deep, "d")));
});

test("mkdirBounded refuses a file in the way, and a parent that refuses entries, naming the path", { skip: !existsSync("/proc/self") }, async () => {
  const file = join(dir, "file");
  await writeFile(file, "x");
  await assert.rejects(mkdirBounded(file), refused(new RegExp(`${file}: a file is in the way`)));
  await assert.rejects(mkdirBounded(join(file, "sub")), refused(/cannot create directory/));
  await assert.rejects(mkdirBounded("/proc/nope/deeper"), refused(/cannot create directory \/proc\/nope/));
});

test("ensureHome creates a missing home, and names a file, or a file above it", async () => {
  const home = join(dir, "homes", "one");
  ensureHome(home);
  assert.ok(statSync(home).isDirectory());
  ensureHome(home);
  const file = join(dir, "plain");
  await writeFile(file, "x");
  assert.throws(() => ensureHome(file), refused(new RegExp(`^AUTHSOME_HOME ${file} is not a directory$`)));
  assert.throws(() => ensureHome(join(file, "a", "b")), refused(new RegExp(`cannot be created: ${file} is not a directory$`)));
});

test("readRegularFile refuses a FIFO and an oversized file at once, and passes ENOENT through", { skip: process.platform === "win32", timeout: 10_000 }, async () => {
  const { spawnSync } = await import("node:child_process");
  const fifo = join(dir, "key.fifo");
  assert.equal(spawnSync("mkfifo", [fifo]).status, 0);
  await assert.rejects(readRegularFile(fifo), refused(/key\.fifo is not a regular file/));
  const big = join(dir, "big");
  await writeFile(big, "x".repeat(2048));
  await assert.rejects(readRegularFile(big, 1024), refused(/larger than 1 KiB/));
  assert.equal(await readRegularFile(big), "x".repeat(2048));
  await assert.rejects(readRegularFile(join(dir, "absent")), (error: unknown) => (error as { code?: string }).code === "ENOENT");
});
