/**
 * The Redis store's index and change feed (issue 14, part 3), against a real redis-server:
 * `list` costs the same few commands with 5 or 205 connections; a store written before the
 * index existed is indexed at its first listing; a write by another process reaches a watcher.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { createAuthService } from "../../../src/index.ts";
import { createStore } from "../../../src/core/storage/index.ts";
import { redisUnavailableReason, startRedisServer } from "../../helpers/redis-server.ts";

const skip = redisUnavailableReason();
const MASTER_KEY = Buffer.alloc(32, 4).toString("base64");

/** Commands the server has processed so far (INFO stats), minus the INFO call itself. */
function commandsProcessed(cli: (...args: string[]) => string): number {
  return Number(/total_commands_processed:(\d+)/.exec(cli("INFO", "stats"))?.[1] ?? Number.NaN);
}

test("list costs the same few Redis commands with 5 and with 205 connections", { skip }, async () => {
  const redis = await startRedisServer();
  const home = await mkdtemp(join(tmpdir(), "authsome-index-"));
  const service = await createAuthService({ home, storage: redis.url, masterKey: MASTER_KEY });
  try {
    const listCost = async (): Promise<number> => {
      await service.listProviders(); // warm: plugins loaded, connection open, index built
      const before = commandsProcessed(redis.cli);
      const { providers } = await service.listProviders();
      const cost = commandsProcessed(redis.cli) - before - 1;
      assert.ok(providers.some((p) => p.name === "openai"));
      return cost;
    };
    const login = (i: number) => service.login("openai", { connection: `c${i}`, apiKey: `sk-index-${i}-000000000000000000000` });
    for (let i = 0; i < 5; i++) await login(i);
    const small = await listCost();
    for (let i = 5; i < 205; i++) await login(i);
    const large = await listCost();
    assert.equal(large, small, `list took ${small} commands with 5 connections, ${large} with 205`);
    // The profile: two round trips, the index walk (one script: EXISTS + one HKEYS per key level)
    // and one MGET; the registry's own reads (plugins shared through the store) come on top.
    assert.ok(small <= 16, `list took ${small} commands`);
    const { providers } = await service.listProviders();
    assert.equal(providers.find((p) => p.name === "openai")?.connections.length, 205);
  } finally {
    await service.close();
    await rm(home, { recursive: true, force: true });
    await redis.stop();
  }
});

test("a store written before the index existed is indexed at its first listing", { skip }, async () => {
  const redis = await startRedisServer();
  try {
    // As unstorage's redis driver stored records: plain keys under `authsome:`, no index.
    redis.cli("SET", "authsome:p:default:conn:openai:old", "{}");
    redis.cli("SET", "authsome:p:default:prov:openai", "{}");
    redis.cli("SET", "authsome:home:ca", "{}");
    const store = await createStore({ home: "/unused", spec: redis.url });
    try {
      assert.deepEqual((await store.storage.getKeys("p")).sort(), ["p:default:conn:openai:old", "p:default:prov:openai"]);
      assert.deepEqual((await store.storage.getKeys("")).sort(), ["home:ca", "p:default:conn:openai:old", "p:default:prov:openai"]);
      await store.storage.removeItem("p:default:conn:openai:old");
      assert.deepEqual(await store.storage.getKeys("p:default:conn"), []);
    } finally {
      await store.dispose();
    }
  } finally {
    await redis.stop();
  }
});

test("the change feed: a write through another connection reaches a watcher, once subscribed", { skip }, async () => {
  const redis = await startRedisServer();
  const watcher = await createStore({ home: "/unused", spec: redis.url });
  const writer = await createStore({ home: "/unused", spec: redis.url });
  try {
    let changes = 0;
    let wake: (() => void) | undefined;
    const stop = watcher.watchChanges?.(() => (changes++, wake?.()), () => assert.fail("lost"));
    assert.ok(stop !== undefined, "the Redis store offers a change feed");
    const next = (): Promise<void> => new Promise((resolve, reject) => {
      wake = resolve;
      setTimeout(() => reject(new Error("no change notice within 5 s")), 5_000).unref();
    });
    await next(); // subscribed: the first notice says "read again"
    const seen = changes;
    const arrived = next();
    await writer.storage.setItem("p:default:conn:openai:x", "{}");
    await arrived;
    assert.equal(changes, seen + 1);
    stop();
  } finally {
    await watcher.dispose();
    await writer.dispose();
    await redis.stop();
  }
});
