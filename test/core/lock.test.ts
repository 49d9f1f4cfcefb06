import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdir, mkdtemp, readFile, readdir, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { test } from "node:test";
import type { TestContext } from "node:test";
import { AuthsomeError } from "../../src/core/errors.ts";
import { createFileLock, createMemoryLock } from "../../src/core/lock.ts";
import type { Lock } from "../../src/core/lock.ts";
import { runtimeCommand } from "../helpers/spawn-runtime.ts";
import { fileURLToPath } from "node:url";

/** A promise with its resolve function, to hold a lock exactly as long as a test wants. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => {};
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const isTimeout = (name: string) => (error: unknown): boolean =>
  error instanceof AuthsomeError && error.code === "lock_timeout" && error.message.includes(`"${name}"`);

async function lockDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "authsome-lock-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return join(dir, "locks");
}

/** Same-name sections never overlap and run in arrival order; other names run alongside. */
async function checkSerialises(lock: Lock): Promise<void> {
  const order: string[] = [];
  let inside = 0;
  const section = (label: string) => async (): Promise<string> => {
    inside++;
    assert.equal(inside, 1, `${label} overlapped another holder`);
    order.push(`${label}:start`);
    await new Promise<void>((resolve) => setImmediate(resolve));
    order.push(`${label}:end`);
    inside--;
    return label;
  };
  const gate = deferred();
  let otherRan = false;
  const first = lock.withLock("x", async () => {
    await gate.promise;
    return section("a")();
  });
  const rest = ["b", "c", "d"].map((label) => lock.withLock("x", section(label)));
  // A different name is not blocked by "x" being held.
  await lock.withLock("y", async () => void (otherRan = true));
  assert.equal(otherRan, true);
  gate.resolve();
  assert.deepEqual(await Promise.all([first, ...rest]), ["a", "b", "c", "d"]);
  assert.deepEqual(order, ["a:start", "a:end", "b:start", "b:end", "c:start", "c:end", "d:start", "d:end"]);
}

test("memory lock serialises one name and not the others", () => checkSerialises(createMemoryLock()));

test("file lock serialises callers within one process", async (t) => checkSerialises(createFileLock(await lockDir(t))));

test("memory lock: a timed-out waiter gets lock_timeout and does not wedge the queue", async () => {
  const lock = createMemoryLock();
  const gate = deferred();
  const holder = lock.withLock("vault", () => gate.promise);
  await assert.rejects(lock.withLock("vault", async () => "never", { timeoutMs: 30 }), isTimeout("vault"));
  const next = lock.withLock("vault", async () => "next");
  gate.resolve();
  await holder;
  assert.equal(await next, "next");
});

test("file lock: a fresh lock from another host makes waiters time out, naming the lock", async (t) => {
  const dir = await lockDir(t);
  await mkdir(dir, { recursive: true });
  const body = { pid: 1, hostname: "some-other-host", createdAt: Date.now(), token: "theirs" };
  await writeFile(join(dir, "profile%3Awork.lock"), JSON.stringify(body));
  const started = Date.now();
  await assert.rejects(createFileLock(dir).withLock("profile:work", async () => 1, { timeoutMs: 150 }), isTimeout("profile:work"));
  assert.ok(Date.now() - started >= 150);
  assert.equal(JSON.parse(await readFile(join(dir, "profile%3Awork.lock"), "utf8")).token, "theirs", "left untouched");
});

test("file lock: an old lock from another host, or an old empty one, is broken", async (t) => {
  const dir = await lockDir(t);
  await plantStaleLock(dir, "remote");
  await writeFile(join(dir, "empty.lock"), ""); // a creator killed between open(wx) and write
  const old = new Date(Date.now() - 60_000);
  await utimes(join(dir, "empty.lock"), old, old);
  const lock = createFileLock(dir);
  assert.equal(await lock.withLock("remote", async () => "in", { timeoutMs: 1_000 }), "in");
  assert.equal(await lock.withLock("empty", async () => "in", { timeoutMs: 1_000 }), "in");
  assert.deepEqual(await readdir(dir), []);
});

/** Plants a lockfile from another host, untouched for a minute: stale by age. */
async function plantStaleLock(dir: string, name: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, `${name}.lock`), JSON.stringify({ pid: 1, hostname: "gone", createdAt: 0, token: "t" }));
  const old = new Date(Date.now() - 60_000);
  await utimes(join(dir, `${name}.lock`), old, old);
}

test("file lock: many waiters breaking one stale lock at once never overlap", async (t) => {
  const dir = await lockDir(t);
  // Several rounds: the race (read stale, another breaks and enters, delete theirs) is timing-bound.
  for (let round = 0; round < 8; round++) {
    await plantStaleLock(dir, "shared");
    // Separate instances have separate in-process queues: they contend through the file only,
    // like separate processes, and all find the stale lock within the same few milliseconds.
    let inside = 0;
    let entries = 0;
    const waiters = Array.from({ length: 12 }, () =>
      createFileLock(dir).withLock("shared", async () => {
        inside++;
        entries++;
        assert.equal(inside, 1, `round ${round}: two waiters both broke the stale lock and entered`);
        // Hold the lock a little, so a second (wrong) holder would overlap with this one.
        await new Promise<void>((resolve) => setTimeout(resolve, 5));
        inside--;
      }),
    );
    await Promise.all(waiters);
    assert.equal(entries, 12);
  }
});

test("file lock: released when fn throws; a lock replaced meanwhile is not deleted", async (t) => {
  const dir = await lockDir(t);
  const lock = createFileLock(dir);
  await assert.rejects(lock.withLock("a", async () => Promise.reject(new Error("boom"))), /boom/);
  assert.deepEqual(await readdir(dir), []);
  await lock.withLock("a", async () => {
    // Someone broke our lock and took it: our release must leave their file alone.
    await writeFile(join(dir, "a.lock"), JSON.stringify({ pid: 1, hostname: "h", createdAt: 0, token: "other" }));
  });
  assert.equal(JSON.parse(await readFile(join(dir, "a.lock"), "utf8")).token, "other");
});

test("file lock: names cannot escape the lock directory", async (t) => {
  const dir = await lockDir(t);
  const lock = createFileLock(dir);
  for (const name of ["", ".", "..", ".hidden", "../outside"]) {
    await assert.rejects(lock.withLock(name, async () => 1), (e: unknown) => e instanceof AuthsomeError && e.code === "usage");
  }
  await lock.withLock("a/../../outside", async () => 1);
  assert.deepEqual(await readdir(join(dir, "..")), ["locks"]);
});

const HOLDER = fileURLToPath(new URL("./fixtures/lock-holder.ts", import.meta.url));

/** Starts the lock-holder fixture and resolves once it printed `line` (bounded: 20 s). */
async function startHolder(t: TestContext, args: string[], line: string): Promise<ChildProcess> {
  const { command, args: fullArgs, cwd } = runtimeCommand(HOLDER, args);
  const child = spawn(command, fullArgs, { cwd, stdio: ["ignore", "pipe", "pipe"] });
  const exited = once(child, "exit");
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await exited;
  });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const lines = createInterface({ input: child.stdout });
  const seen = new Promise<void>((resolve) => lines.on("line", (l) => l === line && resolve()));
  const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
  try {
    await Promise.race([seen, exited.then(() => Promise.reject(new Error(`holder exited before "${line}": ${stderr}`)))]);
  } finally {
    clearTimeout(timer);
  }
  return child;
}

async function killed(child: ChildProcess): Promise<void> {
  const exited = once(child, "exit");
  child.kill("SIGKILL");
  await exited;
}

/** Milliseconds a fresh lock instance (another "process") takes to get `name`. */
async function timeToAcquire(dir: string, name: string): Promise<number> {
  const started = performance.now();
  await createFileLock(dir).withLock(name, async () => {}, { timeoutMs: 5_000 });
  return performance.now() - started;
}

/** mulberry32: seeded, so a failing run can be repeated. */
function seeded(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

test("file lock: a holder killed with -9 while holding does not block the next writer for a second", async (t) => {
  const dir = await lockDir(t);
  const holder = await startHolder(t, ["hold", dir, "vault"], "held");
  const body = JSON.parse(await readFile(join(dir, "vault.lock"), "utf8")) as { pid: number; start?: string };
  assert.equal(body.pid, holder.pid, "the lockfile names its owner from the moment it exists");
  await killed(holder);
  const ms = await timeToAcquire(dir, "vault");
  assert.ok(ms < 1_000, `took ${ms.toFixed(0)} ms`);
});

test("file lock: holders killed at random points while taking and releasing never block the next writer for a second", async (t) => {
  const dir = await lockDir(t);
  const random = seeded(11);
  for (let round = 0; round < 5; round++) {
    const churn = await startHolder(t, ["churn", dir, "audit.default"], "started");
    // A random moment inside its take/release loop (the delay picks the point, it syncs nothing).
    await new Promise((resolve) => setTimeout(resolve, Math.floor(random() * 30)));
    await killed(churn);
    const ms = await timeToAcquire(dir, "audit.default");
    assert.ok(ms < 1_000, `round ${round}: took ${ms.toFixed(0)} ms`);
  }
});

test("file lock: a lockfile that names no owner (an old writer killed before writing it) blocks for under a second", async (t) => {
  const dir = await lockDir(t);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "vault.lock"), ""); // just created, mtime now
  const ms = await timeToAcquire(dir, "vault");
  assert.ok(ms < 1_000, `took ${ms.toFixed(0)} ms`);
});

test("file lock: a lock whose pid now belongs to another process (pid reuse) is broken at once", async (t) => {
  const dir = await lockDir(t);
  const lock = createFileLock(dir);
  let planted = "";
  await lock.withLock("vault", async () => {
    planted = await readFile(join(dir, "vault.lock"), "utf8");
  });
  const body = JSON.parse(planted) as { start?: string; token: string };
  if (body.start === undefined) return t.skip("no /proc: start times unavailable");
  // Our own pid, alive, but recorded with another start time: the owner it names is gone.
  await writeFile(join(dir, "vault.lock"), JSON.stringify({ ...body, start: "1", token: "previous-owner" }));
  const ms = await timeToAcquire(dir, "vault");
  assert.ok(ms < 1_000, `took ${ms.toFixed(0)} ms`);
});

test("file lock: a wait that runs out names the live holder's pid and since when", async (t) => {
  const dir = await lockDir(t);
  const holder = await startHolder(t, ["hold", dir, "vault"], "held");
  const started = Date.now();
  await assert.rejects(createFileLock(dir).withLock("vault", async () => 1, { timeoutMs: 300 }), (error: unknown) => {
    assert.ok(error instanceof AuthsomeError && error.code === "lock_timeout");
    assert.match(error.message, new RegExp(`held by pid ${holder.pid} on this host since \\d{4}-\\d\\d-\\d\\dT`));
    return true;
  });
  const waited = Date.now() - started;
  assert.ok(waited >= 300 && waited < 2_000, `the wait is bounded: ${waited} ms`);
});
