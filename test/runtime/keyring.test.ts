/**
 * The keyring module's own decisions, without a keyring: when it is off or has no bus (found
 * without starting the helper), and how AUTHSOME_KEYRING_TIMEOUT is read. The calls themselves
 * run against a real Secret Service in test/cli/keyring.test.ts.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { AuthsomeError } from "../../src/core/errors.ts";
import { keyringGet, keyringProblem, keyringTimeoutMs } from "../../src/runtime/keyring.ts";

/** Runs `fn` with some environment variables set (undefined: removed), then restores them. */
async function withEnv<T>(vars: Record<string, string | undefined>, fn: () => T | Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  const apply = (values: Record<string, string | undefined>) => {
    for (const [k, val] of Object.entries(values)) if (val === undefined) delete process.env[k]; else process.env[k] = val;
  };
  apply(vars);
  try {
    return await fn();
  } finally {
    apply(saved);
  }
}

test("AUTHSOME_KEYRING=0 (and false/no/off) turns the keyring off; other values leave it on", async () => {
  for (const off of ["0", "false", "NO", "off"]) {
    assert.match((await withEnv({ AUTHSOME_KEYRING: off }, keyringProblem)) ?? "", /turned off by AUTHSOME_KEYRING=0/, off);
  }
  const on = await withEnv({ AUTHSOME_KEYRING: "1", DBUS_SESSION_BUS_ADDRESS: "unix:path=/nonexistent" }, keyringProblem);
  assert.equal(on, undefined);
});

test("on Linux without a session bus the keyring is unavailable at once, with the reason, not after a deadline", { skip: process.platform !== "linux" }, async () => {
  await withEnv({ AUTHSOME_KEYRING: undefined, DBUS_SESSION_BUS_ADDRESS: undefined, XDG_RUNTIME_DIR: "/nonexistent-runtime-dir" }, async () => {
    assert.match(keyringProblem() ?? "", /no D-Bus session bus \(DBUS_SESSION_BUS_ADDRESS is not set\)/);
    const started = Date.now();
    await assert.rejects(keyringGet({ service: "authsome-test", account: "nobody" }), (error: unknown) => {
      assert.ok(error instanceof AuthsomeError);
      assert.equal(error.code, "keyring_unavailable");
      assert.match(error.message, /Secret Service\) is not available: no D-Bus session bus/);
      return true;
    });
    // Found from the environment, not by waiting out the 10 s deadline.
    assert.ok(Date.now() - started < 1_000, `took ${Date.now() - started} ms`);
  });
});

test("AUTHSOME_KEYRING_TIMEOUT: seconds, default 10, refused outside 0.1-600", async () => {
  assert.equal(await withEnv({ AUTHSOME_KEYRING_TIMEOUT: undefined }, keyringTimeoutMs), 10_000);
  assert.equal(await withEnv({ AUTHSOME_KEYRING_TIMEOUT: "1.5" }, keyringTimeoutMs), 1_500);
  for (const bad of ["0", "-1", "abc", "601"]) {
    await withEnv({ AUTHSOME_KEYRING_TIMEOUT: bad }, () => assert.throws(keyringTimeoutMs, (e: unknown) => e instanceof AuthsomeError && e.code === "usage", bad));
  }
});
