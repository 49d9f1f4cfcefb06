/**
 * The audit log: an entry per action, never a secret, a hash chain that `--verify` checks,
 * and detection of an edited line, a removed line and a removed tail.
 */
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { AuditLog } from "../../src/core/audit.ts";
import { createMemoryLock } from "../../src/core/lock.ts";
import { runCli, tempHome } from "../helpers/cli.ts";

test("CLI actions are audited without secrets; --verify passes, then fails on an edited line", async () => {
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
    const entries = text.trim().split("\n").map((l) => JSON.parse(l) as { action: string; outcome: string; provider?: string; pid: number; actor: string; error?: string });
    assert.deepEqual(entries.map((e) => `${e.action}:${e.outcome}`), ["login:ok", "get_secret:ok", "export:ok", "get:error", "logout:ok"]);
    assert.equal(entries[3]?.error, "connection_not_found");
    assert.ok(entries.every((e) => e.provider === "openai" && e.pid > 0 && e.actor.startsWith("cli:")));

    let r = await runCli(["audit", "--verify"], { env: h.env });
    assert.equal(r.code, 0, r.stdout);
    assert.match(r.stdout, /ok: 5 entries/);

    const lines = text.trim().split("\n");
    lines[1] = lines[1]!.replace('"outcome":"ok"', '"outcome":"error"');
    await writeFile(file, `${lines.join("\n")}\n`);
    r = await runCli(["audit", "--verify", "--json"], { env: h.env });
    assert.equal(r.code, 1);
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
