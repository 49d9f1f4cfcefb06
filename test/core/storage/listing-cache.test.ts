// The fs store's listing cache (src/core/storage/listing-cache.ts): `list` reads unchanged records
// from it, yet it is never trusted over the records: an atomic rewrite, an in-place edit that puts
// the old mtime back, a removal and an edited cache are all seen; damaged records are never cached.
import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type { Storage } from "unstorage";
import { createStore } from "../../../src/core/storage/index.ts";
import { attachListingCache, createFsListingCache, RACY_MS } from "../../../src/core/storage/listing-cache.ts";
import { readOverview } from "../../../src/core/vault-overview.ts";

const BOX = { alg: "A256GCM", nonce: "bm9uY2Vub25jZTEy", ct: "c2VhbGVkLXNlY3JldC1ieXRlcw==" };

function record(connection: string, status = "connected") {
  const at = "2026-01-01T00:00:00.000Z";
  return { v: 1, meta: { provider: "acme", connection, authType: "api_key", flow: "api_key", status, createdAt: at, updatedAt: at }, secrets: BOX };
}

/** Every record file's mtime set well past the racy window (no waiting), as if written long ago. */
async function age(dir: string): Promise<void> {
  const old = new Date(Date.now() - 10 * RACY_MS);
  for (const file of await readdir(dir, { recursive: true })) {
    if (String(file).endsWith(".rec")) await utimes(join(dir, String(file)), old, old);
  }
}

/** An fs store whose storage counts the records read past the cache. */
async function countedStore(t: { after(fn: () => Promise<void>): void }) {
  const home = await mkdtemp(join(tmpdir(), "authsome-listing-"));
  t.after(() => rm(home, { recursive: true, force: true }));
  const store = await createStore({ home });
  const dir = join(home, "store");
  const counter = { reads: 0 };
  const storage: Storage = {
    ...store.storage,
    getItems: (items, options) => {
      counter.reads += items.length;
      return store.storage.getItems(items, options);
    },
  };
  attachListingCache(storage, createFsListingCache(dir));
  const list = async () => {
    const overview = await readOverview(storage, "default", (...parts) => parts.join(":"));
    return { state: overview.provider("acme"), connections: overview.connections("acme") };
  };
  return { store, dir, counter, list, file: (name: string) => join(dir, "p/default/conn/acme", `${name}.rec`) };
}

test("unchanged records come from the cache; the cache holds no sealed secret", async (t) => {
  const s = await countedStore(t);
  for (const name of ["a", "b", "c"]) await s.store.storage.setItem(`p:default:conn:acme:${name}`, record(name));
  await s.store.storage.setItem("p:default:prov:acme", { defaultConnection: "b" });
  await age(s.dir);

  const first = await s.list();
  assert.deepEqual(first.connections.map((c) => c.name), ["a", "b", "c"]);
  assert.equal(first.state.defaultConnection, "b");
  assert.equal(s.counter.reads, 4, "first listing reads every record");
  const cached = await readFile(join(s.dir, ".cache/listing-default.json"), "utf8");
  assert.ok(!cached.includes(BOX.ct) && !cached.includes(BOX.nonce), "no sealed box in the cache");
  assert.deepEqual(await s.store.storage.getKeys(""), ["p:default:conn:acme:a", "p:default:conn:acme:b", "p:default:conn:acme:c", "p:default:prov:acme"], "the cache is no record");

  s.counter.reads = 0;
  const second = await s.list();
  assert.deepEqual(second, first);
  assert.equal(s.counter.reads, 0, "second listing reads no record");

  // One changed record is read apart; the cache is not rewritten for it (that costs more).
  await s.store.storage.setItem("p:default:conn:acme:b", record("b", "needs_login"));
  const third = await s.list();
  assert.equal(third.connections[1]?.meta?.status, "needs_login");
  assert.equal(await readFile(join(s.dir, ".cache/listing-default.json"), "utf8"), cached, "cache left as it was");
});

test("rewrites, in-place edits, removals and an edited cache are all seen", async (t) => {
  const s = await countedStore(t);
  for (const name of ["a", "b", "c"]) await s.store.storage.setItem(`p:default:conn:acme:${name}`, record(name));
  await age(s.dir);
  await s.list();

  // Atomic rewrite (new inode, recent mtime: read, and not cached while racy).
  await s.store.storage.setItem("p:default:conn:acme:a", record("a", "needs_login"));
  s.counter.reads = 0;
  assert.equal((await s.list()).connections[0]?.meta?.status, "needs_login");
  assert.equal(s.counter.reads, 1);

  // In-place edit with the old mtime put back (same inode, same size): ctime still tells.
  const stamp = new Date(Date.now() - 10 * RACY_MS);
  const before = await readFile(s.file("b"), "utf8");
  const edited = before.replace('"flow":"api_key"', '"flow":"pkce_ok"');
  assert.equal(edited.length, before.length);
  await writeFile(s.file("b"), edited);
  await utimes(s.file("b"), stamp, stamp);
  assert.equal((await s.list()).connections[1]?.meta?.flow, "pkce_ok");

  await s.store.storage.removeItem("p:default:conn:acme:c");
  assert.deepEqual((await s.list()).connections.map((c) => c.name), ["a", "b"]);

  // A cache edited by hand (the meta changed, its hash not): ignored and rebuilt from the records.
  const cacheFile = join(s.dir, ".cache/listing-default.json");
  await writeFile(cacheFile, (await readFile(cacheFile, "utf8")).replaceAll("pkce_ok", "api_key"));
  s.counter.reads = 0;
  const listed = await s.list();
  assert.deepEqual(listed.connections.map((c) => c.meta?.flow), ["api_key", "pkce_ok"]);
  assert.equal(s.counter.reads, 2);
});

test("a damaged record is reported on every listing, never cached", async (t) => {
  const s = await countedStore(t);
  await s.store.storage.setItem("p:default:conn:acme:a", record("a"));
  await s.store.storage.setItem("p:default:conn:acme:b", record("b"));
  await writeFile(s.file("b"), '{"v":1,"meta":{"provi');
  await age(s.dir);
  for (let i = 0; i < 2; i++) {
    s.counter.reads = 0;
    const { connections } = await s.list();
    assert.equal(connections[0]?.meta?.connection, "a");
    assert.match(connections[1]?.damage?.message ?? "", /connection acme\/b .* is unreadable/);
    assert.equal(s.counter.reads, i === 0 ? 2 : 1, "only the damaged record is read again");
  }
});
