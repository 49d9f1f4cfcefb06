import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { test } from "node:test";
import type { TestContext } from "node:test";
import { setImmediate } from "node:timers";
import { fileURLToPath } from "node:url";
import { createFileLock } from "../../../src/core/lock.ts";
import { createFsDriver } from "../../../src/core/storage/fs-driver.ts";
import { createStore } from "../../../src/core/storage/index.ts";
import { redisUnavailableReason, startRedisServer } from "../../helpers/redis-server.ts";
import { currentRuntime, runtimeCommand } from "../../helpers/spawn-runtime.ts";
import type { Runtime } from "../../helpers/spawn-runtime.ts";
import { CHURN_VALUES } from "./fixtures/churn-values.ts";

const WORKER = fileURLToPath(new URL("./fixtures/store-worker.ts", import.meta.url));

/** A running worker: its process, every stdout line so far, and its exit. */
interface Worker {
  child: ChildProcess;
  lines: string[];
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
  /** Resolves when a stdout line satisfies `match`; rejects if the worker exits first. */
  waitFor(match: (line: string) => boolean): Promise<void>;
}

/** Workers not yet exited; tests in a file run one at a time, so these are the current test's. */
const running = new Map<ChildProcess, Promise<unknown>>();

/** Spawns the worker; a test that fails midway still kills it (see tempHome), so nothing hangs. */
function startWorker(args: string[], runtime: Runtime = currentRuntime()): Worker {
  const { command, args: fullArgs, cwd } = runtimeCommand(WORKER, args, runtime);
  const child = spawn(command, fullArgs, { cwd, stdio: ["ignore", "pipe", "pipe"] });
  const lines: string[] = [];
  const waiters = new Set<{ match: (line: string) => boolean; resolve: () => void }>();
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  createInterface({ input: child.stdout! }).on("line", (line) => {
    lines.push(line);
    for (const waiter of waiters) if (waiter.match(line)) waiter.resolve();
  });
  const exit = once(child, "exit").then(([code, signal]) => ({ code, signal, stderr }));
  running.set(child, exit.finally(() => running.delete(child)));
  const waitFor = (match: (line: string) => boolean): Promise<void> =>
    new Promise((resolve, reject) => {
      if (lines.some(match)) return resolve();
      waiters.add({ match, resolve });
      void exit.then(({ code, stderr: err }) => reject(new Error(`worker exited (${code}) first: ${err}`)));
    });
  return { child, lines, exit, waitFor };
}

/** Waits for a worker and asserts it ended cleanly. */
async function finished(worker: Worker, label: string): Promise<void> {
  const { code, stderr } = await worker.exit;
  assert.equal(code, 0, `${label} exited ${code}; stdout=${worker.lines.join("|")} stderr=${stderr}`);
  assert.ok(!worker.lines.includes("OVERLAP"), `${label}: two lock holders overlapped`);
}

/** A fresh home, removed after the test once its workers are gone (killed if still running). */
async function tempHome(t: TestContext): Promise<string> {
  const home = await mkdtemp(join(tmpdir(), "authsome-conc-"));
  t.after(async () => {
    for (const child of running.keys()) child.kill("SIGKILL");
    await Promise.all(running.values());
    await rm(home, { recursive: true, force: true });
  });
  return home;
}

test("20 processes read-modify-write one index under the file lock", async (t) => {
  const home = await tempHome(t);
  const ids = Array.from({ length: 20 }, (_, i) => `w${i}`);
  const workers = ids.map((id) => startWorker(["index", home, "-", id]));
  await Promise.all(workers.map((worker, i) => finished(worker, `worker ${i}`)));
  const store = await createStore({ home });
  assert.deepEqual(((await store.storage.getItem<string[]>("index")) ?? []).sort(), [...ids].sort());
  assert.deepEqual((await store.storage.getKeys("records")).sort(), ids.map((id) => `records:${id}`).sort());
  assert.deepEqual(await readdir(join(home, "locks")), [], "every lockfile was released");
  await store.dispose();
});

test("Node and Deno processes at once keep an exact counter", async (t) => {
  const home = await tempHome(t);
  const perWorker = 25;
  const runtimes: Runtime[] = ["node", "deno", "node", "deno"];
  const workers = runtimes.map((runtime) => startWorker(["counter", home, "-", String(perWorker)], runtime));
  await Promise.all(workers.map((worker, i) => finished(worker, `${runtimes[i]} worker ${i}`)));
  const store = await createStore({ home });
  assert.equal(await store.storage.getItem("counter"), perWorker * runtimes.length);
  await store.dispose();
});

/** Every churn record is exactly the old or the new value. */
async function assertChurnIntact(driver: ReturnType<typeof createFsDriver>, keys: string[], when: string): Promise<void> {
  assert.deepEqual((await driver.getKeys("", {})).sort(), keys, `${when}: exactly the records, no temp file`);
  for (const key of keys) {
    const raw = await driver.getItem(key, {});
    assert.ok(raw === CHURN_VALUES.old || raw === CHURN_VALUES.new, `${when}: ${key} is torn or missing`);
  }
}

test("kill -9 during writes leaves every record old or new, never torn", async (t) => {
  const home = await tempHome(t);
  const keys = ["churn:k0", "churn:k1", "churn:k2", "churn:k3"];
  const driver = createFsDriver({ base: join(home, "store") });
  let leftovers = 0;
  let concurrentReads = 0;
  // Kill points (round, key): the worker prints "write R K" just before that write.
  for (const [round, key] of [[1, 0], [1, 3], [2, 1], [3, 2], [5, 0], [6, 3]]) {
    const worker = startWorker(["churn", home, "-", String(keys.length)]);
    const killPoint = worker.waitFor((line) => line === `write ${round} ${key}`);
    let reached = false;
    void killPoint.then(() => (reached = true), () => {});
    // While the worker writes, readers must never see a partial value either.
    await worker.waitFor((line) => line === "write 1 0");
    while (!reached) {
      await assertChurnIntact(driver, keys, "while writing");
      concurrentReads++;
      // The fs driver reads synchronously: let the event loop deliver the worker's output.
      await new Promise((resolve) => setImmediate(resolve));
    }
    await killPoint;
    worker.child.kill("SIGKILL");
    assert.equal((await worker.exit).signal, "SIGKILL");
    await assertChurnIntact(driver, keys, `after kill at write ${round} ${key}`);
    leftovers += (await readdir(join(home, "store", "churn"))).filter((name) => name.endsWith(".tmp")).length;
  }
  t.diagnostic(`${concurrentReads} concurrent read passes; temp files left by killed writers (ignored): ${leftovers}`);
});

test("a lock held by a killed process is recovered by the next processes, one at a time", async (t) => {
  const home = await tempHome(t);
  const holder = startWorker(["hold", home, "-", "counter"]);
  await holder.waitFor((line) => line === "locked");
  holder.child.kill("SIGKILL");
  await holder.exit;
  assert.deepEqual(await readdir(join(home, "locks")), ["counter.lock"], "the dead holder's lockfile is left");
  // Six processes find the stale lock at once: exactly one breaks it, and none overlap after.
  const started = Date.now();
  const workers = Array.from({ length: 6 }, () => startWorker(["counter", home, "-", "10"]));
  await Promise.all(workers.map((worker, i) => finished(worker, `worker ${i}`)));
  const store = await createStore({ home });
  assert.equal(await store.storage.getItem("counter"), 60);
  await store.dispose();
  t.diagnostic(`recovered and counted in ${Date.now() - started} ms (stale age is 30 s: recovery used the dead pid)`);
  assert.ok(Date.now() - started < 25_000);
});

test("the file lock recovers in-process too, without waiting for the stale age", async (t) => {
  const home = await tempHome(t);
  const holder = startWorker(["hold", home, "-", "vault"]);
  await holder.waitFor((line) => line === "locked");
  holder.child.kill("SIGKILL");
  await holder.exit;
  const started = Date.now();
  const result = await createFileLock(join(home, "locks")).withLock("vault", async () => "entered", { timeoutMs: 5_000 });
  assert.equal(result, "entered");
  assert.ok(Date.now() - started < 2_000, `took ${Date.now() - started} ms`);
});

const redisSkip = redisUnavailableReason();
test("redis lock: two processes keep an exact counter", async (t) => {
  if (redisSkip !== undefined) {
    console.error(`skipping redis lock test: ${redisSkip}`);
    return t.skip(redisSkip);
  }
  const redis = await startRedisServer();
  t.after(() => redis.stop());
  const home = await tempHome(t);
  const workers = [0, 1].map(() => startWorker(["counter", home, redis.url, "50", home]));
  await Promise.all(workers.map((worker, i) => finished(worker, `worker ${i}`)));
  const store = await createStore({ home, spec: redis.url });
  assert.equal(await store.storage.getItem("counter"), 100);
  assert.deepEqual(await store.storage.getKeys(), ["counter"], "lock keys are kept apart from records");
  await store.dispose();
});
