import assert from "node:assert/strict";
import { mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { AuthsomeError } from "../../../src/core/errors.ts";
import { createFsDriver } from "../../../src/core/storage/fs-driver.ts";
import { createStore } from "../../../src/core/storage/index.ts";
import { redisUnavailableReason, startRedisServer } from "../../helpers/redis-server.ts";
import { testDriver } from "./driver-suite.ts";

const isUsageError = (error: unknown): boolean => error instanceof AuthsomeError && error.code === "usage";

async function tempHome(): Promise<string> {
  return mkdtemp(join(tmpdir(), "authsome-storage-"));
}

const homes: string[] = [];
testDriver("fs", async () => {
  const home = await tempHome();
  homes.push(home);
  return createStore({ home });
}, { teardown: async () => void (await Promise.all(homes.map((home) => rm(home, { recursive: true, force: true })))) });

testDriver("memory", () => createStore({ home: "/unused", spec: "memory" }));

const redisSkip = redisUnavailableReason();
const redis = redisSkip === undefined ? await startRedisServer() : undefined;
testDriver(
  "redis",
  async () => {
    if (redis === undefined) throw new Error("unreachable: suite skipped");
    const store = await createStore({ home: "/unused", spec: redis.url });
    await store.storage.clear();
    return store;
  },
  { skip: redisSkip, teardown: async () => redis?.stop() },
);

test("fs store: files are 0600, directories 0700", async (t) => {
  const home = await tempHome();
  t.after(() => rm(home, { recursive: true, force: true }));
  const store = await createStore({ home });
  await store.storage.setItem("profiles:default:vault", "secret-ish");
  const dir = join(home, "store");
  for (const path of [dir, join(dir, "profiles"), join(dir, "profiles", "default")]) {
    assert.equal((await stat(path)).mode & 0o777, 0o700, path);
  }
  assert.equal((await stat(join(dir, "profiles", "default", "vault.rec"))).mode & 0o777, 0o600);
  assert.deepEqual(await readdir(join(dir, "profiles", "default")), ["vault.rec"], "no temp file left behind");
  await store.dispose();
});

test("fs store: a crashed writer's temp file is neither listed nor read", async (t) => {
  const home = await tempHome();
  t.after(() => rm(home, { recursive: true, force: true }));
  const store = await createStore({ home });
  await store.storage.setItem("records:one", { value: "old" });
  const dir = join(home, "store", "records");
  // What a writer killed between write and rename leaves: a partial value under a temp name.
  await writeFile(join(dir, ".one.rec.4242.deadbeefdeadbeef.tmp"), '{"value":"ne', { mode: 0o600 });
  await writeFile(join(dir, ".two.rec.4242.0123456789abcdef.tmp"), '{"val', { mode: 0o600 });
  assert.deepEqual(await store.storage.getKeys(), ["records:one"]);
  assert.deepEqual(await store.storage.getItem("records:one"), { value: "old" });
  assert.equal(await store.storage.getItem("records:two"), null);
  assert.equal(await store.storage.hasItem("records:two"), false);
  await store.storage.setItem("records:one", { value: "new" });
  assert.deepEqual(await store.storage.getItem("records:one"), { value: "new" });
  await store.dispose();
});

test("fs driver: keys unstorage would normalise are rejected when called directly", async (t) => {
  const home = await tempHome();
  t.after(() => rm(home, { recursive: true, force: true }));
  const driver = createFsDriver({ base: join(home, "inner") });
  for (const key of ["", "a::b", ":a", "a:", "..", "..:..:outside", "a/b", "a\\b"]) {
    await assert.rejects(Promise.resolve().then(() => driver.setItem?.(key, "v", {})), isUsageError, JSON.stringify(key));
  }
  assert.deepEqual(await readdir(home), [], "nothing was written anywhere");
});

test("createStore: spec forms, descriptions and errors", async () => {
  const fsStore = await createStore({ home: "/tmp/authsome-home" });
  assert.equal(fsStore.kind, "fs");
  assert.equal(fsStore.description, "fs:/tmp/authsome-home/store");
  const custom = await createStore({ home: "/ignored", spec: "fs:/srv/authsome/data" });
  assert.equal(custom.description, "fs:/srv/authsome/data");
  assert.equal((await createStore({ home: "/x", spec: "" })).kind, "fs");
  assert.equal((await createStore({ home: "/x", spec: "memory" })).kind, "memory");

  // A Redis store connects lazily: creating one for an unused port must not touch the network.
  const remote = await createStore({ home: "/x", spec: "rediss://user:hunter2@127.0.0.1:1/3" });
  assert.equal(remote.kind, "redis");
  assert.ok(!remote.description.includes("hunter2"), remote.description);
  assert.match(remote.description, /^rediss:\/\/user:\*\*\*@127\.0\.0\.1:1\/3$/);
  await remote.dispose();

  for (const spec of ["fs:relative/path", "bogus", "redis:/user:hunter2@host", "https://example.com", "s3://b"]) {
    await assert.rejects(createStore({ home: "/x", spec }), (error: unknown) => {
      assert.ok(isUsageError(error), spec);
      assert.ok(error instanceof Error && error.message.includes("fs:/absolute/path"), "lists the accepted forms");
      assert.ok(!error.message.includes("hunter2"), "never echoes a password");
      return true;
    });
  }
});

test("redis store: a server that is down fails with store_unavailable, not a hang", async () => {
  const store = await createStore({ home: "/x", spec: "redis://:hunter2@127.0.0.1:1/0" });
  await assert.rejects(store.storage.getItem("k"), (error: unknown) => {
    assert.ok(error instanceof AuthsomeError && error.code === "store_unavailable", String(error));
    assert.ok(!error.message.includes("hunter2"));
    return true;
  });
  await store.dispose();
});
