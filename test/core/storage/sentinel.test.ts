// `redis+sentinel://` (src/core/storage/sentinel.ts): the store finds its primary through a real
// Redis Sentinel (redis-server --sentinel) monitoring a real redis-server, and reads and writes there.
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { AuthsomeError } from "../../../src/core/errors.ts";
import { createStore } from "../../../src/core/storage/index.ts";
import { sentinelOptions } from "../../../src/core/storage/sentinel.ts";
import { freePort } from "../../helpers/ports.ts";
import { type RedisServer, redisUnavailableReason, startRedisServer } from "../../helpers/redis-server.ts";

const skip = redisUnavailableReason();
let redis: RedisServer;
let sentinel: ChildProcess | undefined;
let sentinelPort = 0;
let dir = "";

/** Asks the sentinel which primary it monitors as `name`: ready once it names one. */
function primaryOf(name: string): string {
  return spawnSync("redis-cli", ["-p", String(sentinelPort), "SENTINEL", "get-master-addr-by-name", name], { encoding: "utf8" }).stdout.trim();
}

before(async () => {
  if (skip !== undefined) return;
  redis = await startRedisServer();
  // Below the ephemeral range (helpers/ports.ts): no listen(0) elsewhere can take it before the sentinel binds it.
  sentinelPort = await freePort();
  dir = mkdtempSync(join(tmpdir(), "authsome-sentinel-"));
  // The sentinel rewrites its config file: it must be writable, one per test run.
  writeFileSync(join(dir, "sentinel.conf"), `port ${sentinelPort}\nbind 127.0.0.1\ndir ${dir}\nsentinel monitor files 127.0.0.1 ${redis.port} 1\n`);
  sentinel = spawn("redis-server", [join(dir, "sentinel.conf"), "--sentinel"], { stdio: "ignore" });
  const deadline = Date.now() + 10_000;
  for (let delay = 5; !primaryOf("files").includes(String(redis.port)); delay = Math.min(delay * 2, 100)) {
    if (Date.now() > deadline || sentinel.exitCode !== null) throw new Error("the sentinel did not start");
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
});
after(async () => {
  if (sentinel !== undefined && sentinel.exitCode === null) {
    sentinel.kill("SIGTERM");
    await once(sentinel, "exit");
  }
  await redis?.stop();
  if (dir !== "") rmSync(dir, { recursive: true, force: true });
});

test("a redis+sentinel:// store reads and writes the primary the sentinel names", { skip }, async () => {
  const store = await createStore({ home: "/unused", spec: `redis+sentinel://127.0.0.1:${sentinelPort}/files/0` });
  try {
    assert.equal(store.kind, "redis");
    await store.storage.setItem("p:default:probe", { via: "sentinel" });
    assert.deepEqual(await store.storage.getItem("p:default:probe"), { via: "sentinel" });
    assert.match(redis.cli("GET", "authsome:p:default:probe"), /sentinel/, "written to the monitored primary");
  } finally {
    await store.dispose();
  }
});

test("the sentinel form's parts: every sentinel, the name, the db and the primary's credentials", () => {
  const options = sentinelOptions("redis+sentinel://app:p%40ss@s1.internal:26380/cache/3?sentinel=s2.internal&sentinel=[::1]:26381");
  assert.deepEqual(options.sentinels, [{ host: "s1.internal", port: 26380 }, { host: "s2.internal", port: 26379 }, { host: "::1", port: 26381 }]);
  assert.deepEqual([options.name, options.db, options.username, options.password], ["cache", 3, "app", "p@ss"]);
  assert.deepEqual([sentinelOptions("redis+sentinel://s1").name, sentinelOptions("redis+sentinel://s1").db], ["mymaster", 0]);
  assert.throws(() => sentinelOptions("redis+sentinel://s1/name/x"), (error) => error instanceof AuthsomeError && error.code === "usage");
});
