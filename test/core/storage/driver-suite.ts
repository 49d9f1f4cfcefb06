/**
 * The conformance suite every storage backend runs (unstorage's `testDriver` idea): the same
 * observable behaviour on fs, memory and Redis, so code tested on memory works on disk.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { prefixStorage } from "unstorage";
import { AuthsomeError } from "../../../src/core/errors.ts";
import type { Store } from "../../../src/core/storage/index.ts";

/** Options for {@link testDriver}. */
export interface DriverSuiteOptions {
  /** Why this backend cannot run here; the suite is reported as skipped with this reason. */
  skip?: string | undefined;
  /** Runs once after every case (e.g. stops a server). */
  teardown?: () => Promise<void>;
}

type Case = (store: Store) => Promise<void>;

// Dot segments are already refused by unstorage itself (plain Error); everything else by our check.
const isKeyError = (error: unknown): boolean =>
  (error instanceof AuthsomeError && error.code === "usage") ||
  (error instanceof Error && error.message.startsWith("[unstorage] Invalid"));

const cases: Record<string, Case> = {
  "set, get, has and overwrite a string": async ({ storage }) => {
    assert.equal(await storage.getItem("missing"), null);
    assert.equal(await storage.hasItem("missing"), false);
    await storage.setItem("greeting", "hello world");
    assert.equal(await storage.getItem("greeting"), "hello world");
    assert.equal(await storage.hasItem("greeting"), true);
    await storage.setItem("greeting", "bonjour ✓ é\nsecond line");
    assert.equal(await storage.getItem("greeting"), "bonjour ✓ é\nsecond line");
  },
  "values round-trip as JSON": async ({ storage }) => {
    const record = { provider: "github", scopes: ["repo", "user"], expiresAt: 1_700_000_000, nested: { ok: true } };
    await storage.setItem("profiles:default:github", record);
    assert.deepEqual(await storage.getItem("profiles:default:github"), record);
    await storage.setItem("n", 42);
    assert.equal(await storage.getItem("n"), 42);
    const big = "x".repeat(200_000);
    await storage.setItem("big", big);
    assert.equal(await storage.getItem("big"), big);
  },
  "remove deletes one key; removing a missing key is fine": async ({ storage }) => {
    await storage.setItem("a:one", "one");
    await storage.setItem("a:two", "two");
    await storage.removeItem("a:one");
    assert.equal(await storage.hasItem("a:one"), false);
    assert.equal(await storage.getItem("a:two"), "two");
    await storage.removeItem("a:one");
    await storage.removeItem("never:was");
  },
  "a key and keys nested under it coexist": async ({ storage }) => {
    await storage.setItem("p", "parent");
    await storage.setItem("p:c", "child");
    await storage.setItem("p:c:g", "grandchild");
    assert.equal(await storage.getItem("p"), "parent");
    assert.equal(await storage.getItem("p:c"), "child");
    assert.equal(await storage.getItem("p:c:g"), "grandchild");
  },
  "getKeys lists everything or one prefix, by whole segments": async ({ storage }) => {
    for (const key of ["a", "a:b:c", "a:b:d", "a:e", "ab:f", "x"]) await storage.setItem(key, key);
    assert.deepEqual((await storage.getKeys()).sort(), ["a", "a:b:c", "a:b:d", "a:e", "ab:f", "x"]);
    assert.deepEqual((await storage.getKeys("a")).sort(), ["a:b:c", "a:b:d", "a:e"]);
    assert.deepEqual((await storage.getKeys("a:b:")).sort(), ["a:b:c", "a:b:d"]);
    assert.deepEqual(await storage.getKeys("nothing:here"), []);
  },
  "clear(base) removes only that prefix; clear() removes all": async ({ storage }) => {
    for (const key of ["a", "a:b:c", "a:e", "ab:f", "x"]) await storage.setItem(key, key);
    await storage.clear("a");
    assert.deepEqual((await storage.getKeys()).sort(), ["a", "ab:f", "x"]);
    await storage.clear();
    assert.deepEqual(await storage.getKeys(), []);
  },
  "a prefixed view reads, lists and clears only its prefix": async ({ storage }) => {
    await storage.setItem("users:1", "ann");
    await storage.setItem("orders:1", "book");
    const users = prefixStorage(storage, "users");
    assert.equal(await users.getItem("1"), "ann");
    assert.deepEqual(await users.getKeys(), ["1"]);
    await users.clear();
    assert.deepEqual(await storage.getKeys(), ["orders:1"]);
  },
  "invalid keys are rejected": async ({ storage }) => {
    const bad = ["a:..:b", "..:escape", "a:.hidden", "a b", "ünïcode", "a:b.rec", "semi;colon", "k".repeat(201)];
    for (const key of bad) {
      await assert.rejects(storage.setItem(key, "v"), isKeyError, `setItem(${JSON.stringify(key)})`);
      await assert.rejects(storage.getItem(key), isKeyError, `getItem(${JSON.stringify(key)})`);
    }
    await assert.rejects(storage.getKeys("a b"), isKeyError);
    assert.deepEqual(await storage.getKeys(), []);
  },
};

/**
 * Registers one test per case for the backend `name`; `makeStore` opens an empty store
 * (called once per case, disposed after it).
 */
export function testDriver(name: string, makeStore: () => Promise<Store>, options: DriverSuiteOptions = {}): void {
  test(`storage conformance: ${name}`, async (t) => {
    if (options.skip !== undefined) {
      console.error(`skipping ${name} storage conformance: ${options.skip}`);
      t.skip(options.skip);
      return;
    }
    try {
      for (const [title, run] of Object.entries(cases)) {
        await t.test(title, async () => {
          const store = await makeStore();
          try {
            await run(store);
          } finally {
            await store.dispose();
          }
        });
      }
    } finally {
      await options.teardown?.();
    }
  });
}
