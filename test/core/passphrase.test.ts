/**
 * Passphrase mode: a home created with AUTHSOME_PASSPHRASE keeps its master key sealed under an
 * argon2id-derived key; without the passphrase, or with a wrong one, nothing opens.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { runCli, tempHome } from "../helpers/cli.ts";

test("a passphrase-protected home opens only with its passphrase", async () => {
  const h = await tempHome();
  try {
    const withPass = { ...h.env, AUTHSOME_PASSPHRASE: "correct horse battery" };
    let r = await runCli(["login", "openai"], { env: withPass, input: "sk-passphrase0000000000000000" });
    assert.equal(r.code, 0, r.stderr);
    const file = JSON.parse(await readFile(join(h.home, "master.key"), "utf8")) as { kdf: string; m: number };
    assert.equal(file.kdf, "argon2id");
    assert.ok(file.m >= 19_456);
    r = await runCli(["get", "openai", "--field", "api_key", "--show-secret"], { env: withPass });
    assert.equal(r.stdout, "sk-passphrase0000000000000000\n", r.stderr);
    r = await runCli(["whoami"], { env: withPass });
    assert.match(r.stdout, /passphrase-protected/);
    r = await runCli(["get", "openai", "--show-secret"], { env: h.env });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /protected by a passphrase/);
    assert.equal(r.stdout, "");
    r = await runCli(["get", "openai", "--show-secret"], { env: { ...h.env, AUTHSOME_PASSPHRASE: "wrong horse battery" } });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /passphrase does not open/);
    r = await runCli(["run", "--", "sh", "-c", "echo ${AUTHSOME_PASSPHRASE:-withheld}"], { env: withPass });
    assert.equal(r.stdout.trim(), "withheld", "the passphrase never reaches a run's child");
  } finally {
    await h.cleanup();
  }
});
