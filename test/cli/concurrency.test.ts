/**
 * Many processes writing one provider's records at once: none may be lost (each login takes
 * the provider's cross-process lock around its read-modify-write of the default slot).
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { runCli, tempHome } from "../helpers/cli.ts";

test("20 processes logging in different connections of one provider at once: all 20 present", async () => {
  const h = await tempHome();
  try {
    // Create the master key first so the race is on records, not on the key file (`list` opens
    // the vault; `whoami` no longer does).
    assert.equal((await runCli(["list"], { env: h.env })).code, 0);
    assert.ok(existsSync(join(h.home, "master.key")), "the key is made before the race");
    const names = Array.from({ length: 20 }, (_, i) => `agent-${String(i).padStart(2, "0")}`);
    const results = await Promise.all(names.map((name, i) => runCli(["login", "openai", "--connection", name], { env: h.env, input: `sk-concurrent-${String(i).padStart(2, "0")}-0000000000000` })));
    for (const [i, r] of results.entries()) assert.equal(r.code, 0, `${names[i]}: ${r.stderr}`);
    const r = await runCli(["inspect", "openai", "--json"], { env: h.env });
    const view = JSON.parse(r.stdout) as { default_connection: string; connections: { connection: string; is_default: boolean }[] };
    assert.deepEqual(view.connections.map((c) => c.connection).sort(), names);
    assert.ok(names.includes(view.default_connection), "exactly one of them took the default slot");
    assert.equal(view.connections.filter((c) => c.is_default).length, 1);
    for (const [i, name] of names.entries()) {
      const got = await runCli(["get", "openai", "--connection", name, "--field", "api_key", "--show-secret"], { env: h.env });
      assert.equal(got.stdout, `sk-concurrent-${String(i).padStart(2, "0")}-0000000000000\n`, got.stderr);
    }
    const verify = await runCli(["audit", "--verify", "--json"], { env: h.env });
    assert.equal(verify.code, 0, verify.stdout);
    assert.ok((JSON.parse(verify.stdout) as { lines: number }).lines >= 40, "every login and get was audited, chain intact");
  } finally {
    await h.cleanup();
  }
});

test("20 processes logging in at once into a home with no key yet: all succeed under the one key made", async () => {
  const h = await tempHome();
  try {
    // One of them makes the key and writes its records; the others may look for the key before
    // it exists and see those records after, which must not read as a home that lost its key.
    const names = Array.from({ length: 20 }, (_, i) => `fresh-${String(i).padStart(2, "0")}`);
    const results = await Promise.all(names.map((name, i) => runCli(["login", "openai", "--connection", name], { env: h.env, input: `sk-fresh-home-${String(i).padStart(2, "0")}-000000000000` })));
    for (const [i, r] of results.entries()) assert.equal(r.code, 0, `${names[i]}: ${r.stderr}`);
    const key = await readFile(join(h.home, "master.key"), "utf8");
    for (const [i, name] of names.entries()) {
      const got = await runCli(["get", "openai", "--connection", name, "--field", "api_key", "--show-secret"], { env: h.env });
      assert.equal(got.stdout, `sk-fresh-home-${String(i).padStart(2, "0")}-000000000000\n`, got.stderr);
    }
    assert.equal(await readFile(join(h.home, "master.key"), "utf8"), key, "one key, never replaced");
  } finally {
    await h.cleanup();
  }
});
