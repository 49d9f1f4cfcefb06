/**
 * The audit log: an entry per action, never a secret, a run id per process, a hash chain that
 * `--verify` checks; detection of an edited line, a removed line and a removed tail; and
 * crash consistency: a kill -9 at any moment leaves a log that verifies, or whose cut tail is
 * reported as a crash and recovered by the next write, while an edit stays an edit.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { AuditLog } from "../../src/core/audit.ts";
import { createFileLock, createMemoryLock } from "../../src/core/lock.ts";
import { runCli, tempHome } from "../helpers/cli.ts";
import { runtimeCommand } from "../helpers/spawn-runtime.ts";

test("CLI actions are audited without secrets, one run id per command; --verify passes, then exits 10 on an edited line", async () => {
  const h = await tempHome();
  try {
    const key = "sk-audit-SECRETVALUE-00000000000";
    await runCli(["login", "openai"], { env: h.env, input: key });
    await runCli(["get", "openai", "--show-secret"], { env: h.env });
    await runCli(["export", "openai"], { env: h.env });
    await runCli(["get", "openai", "--connection", "missing"], { env: h.env });
    await runCli(["logout", "openai"], { env: h.env });
    const file = join(h.home, "audit", "default.jsonl");
    const text = await readFile(file, "utf8");
    assert.ok(!text.includes("SECRETVALUE"), "no secret in the audit log");
    const entries = text.trim().split("\n").map((l) => JSON.parse(l) as { action: string; outcome: string; provider?: string; pid: number; actor: string; run: string; error?: string });
    assert.deepEqual(entries.map((e) => `${e.action}:${e.outcome}`), ["login:ok", "get_secret:ok", "export:ok", "get:error", "logout:ok"]);
    assert.equal(entries[3]?.error, "connection_not_found");
    assert.ok(entries.every((e) => e.provider === "openai" && e.pid > 0 && e.actor.startsWith("cli:") && /^[0-9a-f]{12}$/.test(e.run)));
    assert.equal(new Set(entries.map((e) => e.run)).size, 5, "each command has its own run id");

    let r = await runCli(["audit", "--verify"], { env: h.env });
    assert.equal(r.code, 0, r.stdout);
    assert.match(r.stdout, /ok: 5 entries/);

    const lines = text.trim().split("\n");
    lines[1] = lines[1]!.replace('"outcome":"ok"', '"outcome":"error"');
    await writeFile(file, `${lines.join("\n")}\n`);
    r = await runCli(["audit", "--verify", "--json"], { env: h.env });
    assert.equal(r.code, 10, "tampering has its own exit code");
    const result = JSON.parse(r.stdout) as { ok: boolean; problem: { line: number } };
    assert.equal(result.ok, false);
    assert.equal(result.problem.line, 2, "names the edited line");
  } finally {
    await h.cleanup();
  }
});

test("removed lines and a removed tail are detected", async () => {
  const h = await tempHome();
  try {
    const log = new AuditLog(h.home, "default", createMemoryLock(), "test");
    for (let i = 0; i < 5; i++) await log.record({ action: `a${i}`, outcome: "ok" });
    assert.deepEqual(await log.verify(), { ok: true, lines: 5 });
    const file = join(h.home, "audit", "default.jsonl");
    const lines = (await readFile(file, "utf8")).trim().split("\n");
    await writeFile(file, `${lines.slice(0, 4).join("\n")}\n`);
    const tail = await log.verify();
    assert.equal(tail.ok, false);
    assert.match(tail.problem?.reason ?? "", /last lines were removed/);
    await writeFile(file, `${[lines[0], lines[2], lines[3], lines[4]].join("\n")}\n`);
    const middle = await log.verify();
    assert.equal(middle.ok, false);
    assert.equal(middle.problem?.line, 1);
  } finally {
    await h.cleanup();
  }
});

/** A log with `n` entries, its file paths, and the head as it was after entry `n`. */
async function logWith(home: string, n: number): Promise<{ log: AuditLog; file: string; headFile: string; head: string }> {
  const log = new AuditLog(home, "default", createMemoryLock(), "test");
  for (let i = 0; i < n; i++) await log.record({ action: `a${i}`, outcome: "ok" });
  const headFile = join(home, "audit", "default.head");
  return { log, file: join(home, "audit", "default.jsonl"), headFile, head: await readFile(headFile, "utf8") };
}

test("a writer killed after its append, before its head update: the log verifies and the next write continues it", async () => {
  const h = await tempHome();
  try {
    const { log, headFile, head } = await logWith(h.home, 3);
    await log.record({ action: "lost-head", outcome: "ok" });
    await writeFile(headFile, head); // as if the head's rename never happened
    assert.deepEqual(await log.verify(), { ok: true, lines: 4 });
    await log.record({ action: "next", outcome: "ok" });
    assert.deepEqual(await log.verify(), { ok: true, lines: 5 });
    // The case, before the fix: every later verify failed here.
    await writeFile(headFile, ""); // a first write killed before its head existed reads the same
    assert.equal((await log.verify()).ok, true);
  } finally {
    await h.cleanup();
  }
});

test("a write cut mid-line is a crash, not an edit; the next write recovers it; edits and removals after that are still seen", async () => {
  const h = await tempHome();
  try {
    const { log, file } = await logWith(h.home, 3);
    const full = await readFile(file, "utf8");
    await writeFile(file, `${full}{"time":"2026-12-01T00:00:00.000Z","pid":1,"act`); // the kill cut this write
    const cut = await log.verify();
    assert.equal(cut.ok, true);
    assert.deepEqual(cut.crashes, [{ line: 4, lines: 1, recovered: false, reason: "cut by a crash at line 4, recovered at the next write" }]);

    await log.record({ action: "after", outcome: "ok" });
    const recovered = await log.verify();
    assert.deepEqual(recovered, { ok: true, lines: 6, crashes: [{ line: 4, lines: 1, recovered: true, reason: "cut by a crash at line 4, recovered (line 5)" }] });
    const entries = await log.read();
    assert.deepEqual(entries.map((e) => e.action), ["a0", "a1", "a2", "audit.recovered", "after"]);
    assert.equal(entries[3]?.cut?.line, 4);

    const lines = (await readFile(file, "utf8")).trim().split("\n");
    const edited = [...lines];
    edited[1] = edited[1]!.replace('"a1"', '"a9"');
    await writeFile(file, `${edited.join("\n")}\n`);
    const edit = await log.verify();
    assert.equal(edit.ok, false, "an edit before the crash is still an edit");
    assert.equal(edit.problem?.line, 2);

    const withoutCut = [...lines.slice(0, 3), ...lines.slice(4)];
    await writeFile(file, `${withoutCut.join("\n")}\n`);
    const removed = await log.verify();
    assert.equal(removed.ok, false, "removing the torn line the recovery names is seen");

    const tornEdited = [...lines];
    tornEdited[3] = `${tornEdited[3]}x`;
    await writeFile(file, `${tornEdited.join("\n")}\n`);
    assert.equal((await log.verify()).ok, false, "editing the torn line is seen");

    const junk = [...lines];
    junk.splice(1, 0, "not an entry");
    await writeFile(file, `${junk.join("\n")}\n`);
    assert.equal((await log.verify()).ok, false, "a junk line inside the log is an edit, not a crash");
  } finally {
    await h.cleanup();
  }
});

test("a junk last line the head already counts is an edit, not a crash", async () => {
  const h = await tempHome();
  try {
    const { log, file } = await logWith(h.home, 3);
    const lines = (await readFile(file, "utf8")).trim().split("\n");
    await writeFile(file, `${lines.slice(0, 2).join("\n")}\n${lines[2]!.slice(0, 40)}`);
    const result = await log.verify();
    assert.equal(result.ok, false);
    assert.equal(result.problem?.line, 3);
  } finally {
    await h.cleanup();
  }
});

const WRITER = fileURLToPath(new URL("./fixtures/audit-writer.ts", import.meta.url));

/** Starts the audit writer and kills it with -9 `delayMs` after it said it started. */
async function writeAndKill(home: string, seed: number, delayMs: number): Promise<void> {
  const { command, args, cwd } = runtimeCommand(WRITER, [home, String(seed)]);
  const child = spawn(command, args, { cwd, stdio: ["ignore", "pipe", "inherit"] });
  const exited = once(child, "exit");
  const guard = setTimeout(() => child.kill("SIGKILL"), 30_000);
  try {
    const started = new Promise<void>((resolve) => createInterface({ input: child.stdout }).on("line", (l) => l === "started" && resolve()));
    await Promise.race([started, exited]);
    // The delay picks a random moment of the writing loop; it synchronises nothing.
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    child.kill("SIGKILL");
    await exited;
  } finally {
    clearTimeout(guard);
  }
}

test("writers killed with -9 at random moments: the log always verifies, crashes are reported as such and recovered", async () => {
  const h = await tempHome();
  try {
    const log = new AuditLog(h.home, "default", createFileLock(join(h.home, "locks")), "test");
    let seed = 20261201;
    const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    let crashes = 0;
    for (let round = 0; round < 12; round++) {
      await writeAndKill(h.home, round + 1, 40 + Math.floor(random() * 200));
      const result = await log.verify();
      assert.equal(result.ok, true, `round ${round}: ${JSON.stringify(result.problem)}`);
      for (const crash of result.crashes ?? []) assert.match(crash.reason, /^cut by a crash at line \d+, recovered/);
      crashes = result.crashes?.length ?? 0;
    }
    await log.record({ action: "final", outcome: "ok" });
    const final = await log.verify();
    assert.equal(final.ok, true, JSON.stringify(final.problem));
    assert.ok((final.crashes ?? []).every((c) => c.recovered), "every crash is recovered after a write");
    assert.ok(final.lines > 12, `${final.lines} lines, ${crashes} crash(es) seen`);
  } finally {
    await h.cleanup();
  }
});
