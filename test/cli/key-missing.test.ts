/**
 * A home whose store holds profiles but whose master key is gone (deleted, or the home copied
 * without it): one clear error and no new key, which would not open them (issue 14 part 6).
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { runCli, tempHome } from "../helpers/cli.ts";

test("a lost master.key gives machine_no_access naming the fix, and no new key is made", async () => {
  const h = await tempHome();
  try {
    let r = await runCli(["login", "openai"], { env: h.env, input: "sk-lost-key-000000000000000000" });
    assert.equal(r.code, 0, r.stderr);
    await rm(join(h.home, "master.key"));
    r = await runCli(["get", "openai", "--show-secret"], { env: h.env });
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /^error: this home has no key for the profiles in its store .*: the home has no master key/);
    assert.match(r.stderr, /restore <home>\/master\.key .* or set AUTHSOME_MASTER_KEY/);
    assert.doesNotMatch(r.stderr, /sk-lost-key/);
    r = await runCli(["list", "--json"], { env: h.env });
    assert.equal((JSON.parse(r.stdout) as { error: string }).error, "machine_no_access");
    assert.equal(existsSync(join(h.home, "master.key")), false, "a new master key was made");
  } finally {
    await h.cleanup();
  }
});
