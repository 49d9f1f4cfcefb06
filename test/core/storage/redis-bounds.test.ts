/**
 * The Redis store against real redis-server processes (issue 14, parts 1 and 2): bounded
 * failures (down, frozen, killed and restarted), authentication errors, TLS with an ACL user,
 * and fenced locks (a holder paused past its TTL cannot commit; a dead holder's lock lapses
 * within one TTL).
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { AuthsomeError } from "../../../src/core/errors.ts";
import { createRedisLock } from "../../../src/core/lock.ts";
import { createStore, type Store } from "../../../src/core/storage/index.ts";
import { redisTlsUnavailableReason, redisUnavailableReason, startRedisServer } from "../../helpers/redis-server.ts";
import { runtimeCommand } from "../../helpers/spawn-runtime.ts";

const skip = redisUnavailableReason();
/** The ACL rules docs/fleet.md gives authsome's user. */
const FLEET_ACL = "~authsome* &authsome* -@all +@read +@write +@scripting +@pubsub +@connection +time +info";
const FENCE_WORKER = fileURLToPath(new URL("./fixtures/fence-worker.ts", import.meta.url));

/** Runs `op`, which must fail with `code` within `withinMs`; returns the error. */
async function failsWithin(op: Promise<unknown>, code: string, withinMs: number): Promise<AuthsomeError> {
  const started = Date.now();
  const error = await op.then(
    () => assert.fail(`expected ${code}, got success`),
    (e: unknown) => e,
  );
  const elapsed = Date.now() - started;
  assert.ok(error instanceof AuthsomeError, String(error));
  assert.equal(error.code, code, error.message);
  assert.ok(elapsed < withinMs, `failed after ${elapsed} ms, over ${withinMs} ms`);
  return error;
}

/** By pid: Deno's ChildProcess.kill does not deliver SIGCONT to a stopped child. */
function signal(pid: number | undefined, name: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
}

async function withStore<T>(spec: string, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await createStore({ home: "/unused", spec });
  try {
    return await fn(store);
  } finally {
    await store.dispose();
  }
}

test("an unreachable store: store_unavailable within 5 s, naming the store, never its password, with a hint", { skip }, async () => {
  await withStore("redis://agent:hunter2@127.0.0.1:1/0", async (store) => {
    for (const op of [store.storage.getItem("k"), store.storage.setItem("k", "v"), store.storage.getKeys("p")]) {
      const error = await failsWithin(op, "store_unavailable", 5_000);
      assert.match(error.message, /redis:\/\/agent:\*\*\*@127\.0\.0\.1:1\/0/);
      assert.ok(!`${error.message} ${error.hint}`.includes("hunter2"));
      assert.match(error.hint ?? "", /AUTHSOME_STORAGE/);
    }
  });
});

test("a frozen store (SIGSTOP): reads and writes fail within 5 s, and the failed write is not stored after SIGCONT", { skip }, async () => {
  const redis = await startRedisServer();
  try {
    await withStore(redis.url, async (store) => {
      await store.storage.setItem("before", "one");
      redis.signal("SIGSTOP");
      await failsWithin(store.storage.setItem("during", "lost?"), "store_unavailable", 5_000);
      await failsWithin(store.storage.getItem("before"), "store_unavailable", 5_000);
      redis.signal("SIGCONT");
      // Same connection, so this read runs after the stale write the server still had queued.
      assert.equal(await store.storage.getItem("during"), null, "a write reported as failed must not land later");
      assert.equal(await store.storage.getItem("before"), "one");
      await store.storage.setItem("after", "2");
      assert.deepEqual((await store.storage.getKeys("")).sort(), ["after", "before"]);
    });
  } finally {
    await redis.stop();
  }
});

test("killed and restarted during writes: no call hangs past its deadline, every acknowledged write survives", { skip }, async () => {
  const redis = await startRedisServer({ persistent: true });
  try {
    await withStore(redis.url, async (store) => {
      const acked: string[] = [];
      let failed = 0;
      const writer = (async () => {
        for (let i = 0; i < 400; i++) {
          const started = Date.now();
          try {
            await store.storage.setItem(`w:k${i}`, `v${i}`);
            acked.push(`w:k${i}`);
          } catch (error) {
            assert.ok(error instanceof AuthsomeError && error.code === "store_unavailable", String(error));
            failed++;
          }
          assert.ok(Date.now() - started < 5_000, `write ${i} took ${Date.now() - started} ms`);
        }
      })();
      while (acked.length < 50) await new Promise((resolve) => setImmediate(resolve));
      await redis.restart();
      await writer;
      assert.ok(acked.length > 50, "writes went on after the restart");
      const values = await Promise.all(acked.map((key) => store.storage.getItem(key)));
      assert.deepEqual(values.filter((v) => v === null).length, 0, `lost acknowledged writes (${failed} failed)`);
      assert.deepEqual((await store.storage.getKeys("w")).length >= acked.length, true, "the index lists them");
    });
  } finally {
    await redis.stop();
  }
});

test("a wrong password says authentication failed; an ACL user with its password works", { skip }, async () => {
  // The permissions docs/fleet.md gives the authsome user, and no more.
  const redis = await startRedisServer({ aclUsers: [`user fleet on >s3cret-pw ${FLEET_ACL}`], password: "root-pw" });
  const base = new URL(redis.url);
  const as = (auth: string) => `redis://${auth}@${base.host}/0`;
  try {
    for (const spec of [as(":wrong-pw"), as("fleet:wrong-pw"), as("nobody:s3cret-pw")]) {
      await withStore(spec, async (store) => {
        const error = await failsWithin(store.storage.getItem("k"), "store_auth_failed", 5_000);
        assert.match(error.message, /authentication failed/);
        assert.ok(!error.message.includes("wrong-pw") && !error.message.includes("s3cret-pw"));
      });
    }
    await withStore(as("fleet:s3cret-pw"), async (store) => {
      await store.storage.setItem("p:x", "acl");
      assert.equal(await store.storage.getItem("p:x"), "acl");
      assert.deepEqual(await store.storage.getKeys("p"), ["p:x"]);
      assert.deepEqual(await store.storage.getItems(["p:x"]), [{ key: "p:x", value: "acl" }]);
      await store.lock.withLock("acl", async () => store.storage.removeItem("p:x"));
      const { openAuditLog } = await import("../../../src/core/audit.ts");
      const home = await mkdtemp(join(tmpdir(), "authsome-acl-"));
      const audit = await openAuditLog(home, "default", store, "test");
      await audit.record({ action: "acl_check", outcome: "ok" });
      assert.equal((await audit.verify()).ok, true);
      await rm(home, { recursive: true, force: true });
      // The change feed subscribes under the same user: its first notice comes once subscribed.
      let changes = 0;
      const stop = store.watchChanges?.(() => changes++, () => assert.fail("the change feed was refused"));
      for (const deadline = Date.now() + 5_000; changes === 0; ) {
        assert.ok(Date.now() < deadline, "no change notice within 5 s");
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      stop?.();
    });
  } finally {
    await redis.stop();
  }
});

test("rediss:// (TLS) with an ACL user, the CA from AUTHSOME_REDIS_CA", { skip: redisTlsUnavailableReason() }, async () => {
  const redis = await startRedisServer({ tls: true, aclUsers: [`user fleet on >tls-pw ${FLEET_ACL}`] });
  const saved = process.env["AUTHSOME_REDIS_CA"];
  try {
    process.env["AUTHSOME_REDIS_CA"] = redis.caFile;
    const url = new URL(redis.url);
    await withStore(`rediss://fleet:tls-pw@${url.host}/0`, async (store) => {
      await store.storage.setItem("t:1", "over tls");
      assert.equal(await store.storage.getItem("t:1"), "over tls");
    });
    delete process.env["AUTHSOME_REDIS_CA"];
    await withStore(`rediss://fleet:tls-pw@${url.host}/0`, async (store) => {
      // Without the CA the server's certificate is not trusted: an error, not a plaintext fallback.
      await assert.rejects(store.storage.getItem("t:1"), (error: unknown) => error instanceof AuthsomeError);
    });
  } finally {
    if (saved === undefined) delete process.env["AUTHSOME_REDIS_CA"];
    else process.env["AUTHSOME_REDIS_CA"] = saved;
    await redis.stop();
  }
});

test("a lock holder paused past its TTL cannot commit its write (lock_lost); the new holder's write stands", { skip }, async () => {
  const redis = await startRedisServer();
  const ttlMs = 800;
  const { command, args, cwd } = runtimeCommand(FENCE_WORKER, [redis.url, String(ttlMs)]);
  const child = spawn(command, args, { cwd, stdio: ["pipe", "pipe", "inherit"] });
  const exited = once(child, "exit");
  try {
    const lines = createInterface({ input: child.stdout });
    const next = async (): Promise<string> => String((await once(lines, "line"))[0]);
    assert.equal(await next(), "locked");
    signal(child.pid, "SIGSTOP");
    await withStore(redis.url, async (store) => {
      if (store.redis === undefined) throw new Error("not a redis store");
      const lock = createRedisLock(store.redis.lockClient, { ttlMs });
      // Waits (bounded) for the frozen holder's lock to lapse: it cannot renew it.
      await lock.withLock("fence", () => store.storage.setItem("fenced", "new-holder"), { timeoutMs: 10_000 });
      signal(child.pid, "SIGCONT");
      child.stdin.write("go\n");
      assert.equal(await next(), "lock_lost");
      assert.equal(await store.storage.getItem("fenced"), "new-holder");
    });
  } finally {
    signal(child.pid, "SIGCONT");
    signal(child.pid, "SIGTERM");
    await exited;
    await redis.stop();
  }
});

test("a lock left behind by a killed holder blocks nobody past one TTL", { skip }, async () => {
  const redis = await startRedisServer();
  const ttlMs = 1_000;
  const { command, args, cwd } = runtimeCommand(FENCE_WORKER, [redis.url, String(ttlMs)]);
  const child = spawn(command, args, { cwd, stdio: ["pipe", "pipe", "inherit"] });
  const exited = once(child, "exit");
  try {
    const lines = createInterface({ input: child.stdout });
    assert.equal(String((await once(lines, "line"))[0]), "locked");
    signal(child.pid, "SIGKILL");
    await exited;
    await withStore(redis.url, async (store) => {
      if (store.redis === undefined) throw new Error("not a redis store");
      const started = Date.now();
      await createRedisLock(store.redis.lockClient, { ttlMs }).withLock("fence", async () => {}, { timeoutMs: 10_000 });
      assert.ok(Date.now() - started <= ttlMs + 500, `waited ${Date.now() - started} ms for a dead holder's lock`);
    });
  } finally {
    await redis.stop();
  }
});
