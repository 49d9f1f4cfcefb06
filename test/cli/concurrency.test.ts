/**
 * Many processes writing one provider's records at once: none may be lost (each login takes
 * the provider's cross-process lock around its read-modify-write of the default slot).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { runCli, tempHome } from "../helpers/cli.ts";

test("20 processes logging in different connections of one provider at once: all 20 present", async () => {
  const h = await tempHome();
  try {
    // Create the master key first so the race is on records, not on the key file.
    assert.equal((await runCli(["whoami"], { env: h.env })).code, 0);
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
