/**
 * A fleet sharing one Redis store: two homes (two machines) with the same master key see the
 * same connections; the records in Redis hold no plaintext secret.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { runCli, tempHome } from "../helpers/cli.ts";
import { redisUnavailableReason, startRedisServer } from "../helpers/redis-server.ts";

const skip = redisUnavailableReason();

test("two homes on one redis:// store share connections", { skip }, async () => {
  const redis = await startRedisServer();
  const one = await tempHome();
  const two = await tempHome();
  try {
    const shared = { AUTHSOME_STORAGE: redis.url, AUTHSOME_MASTER_KEY: Buffer.alloc(32, 5).toString("base64") };
    const key = "sk-fleet-SHAREDSECRET-000000000";
    let r = await runCli(["login", "openai", "--connection", "fleet"], { env: { ...one.env, ...shared }, input: key });
    assert.equal(r.code, 0, r.stderr);
    r = await runCli(["get", "openai", "--connection", "fleet", "--field", "api_key", "--show-secret"], { env: { ...two.env, ...shared } });
    assert.equal(r.stdout, `${key}\n`, r.stderr);
    r = await runCli(["whoami", "--json"], { env: { ...two.env, ...shared } });
    assert.equal((JSON.parse(r.stdout) as { storage_kind: string }).storage_kind, "redis");
    const port = new URL(redis.url).port;
    const dump = spawnSync("redis-cli", ["-p", port, "--scan"], { encoding: "utf8" });
    if (dump.status === 0) {
      for (const k of dump.stdout.trim().split("\n").filter(Boolean)) {
        const value = spawnSync("redis-cli", ["-p", port, "GET", k], { encoding: "utf8" }).stdout;
        assert.ok(!value.includes("SHAREDSECRET"), `redis key ${k} holds the secret in plaintext`);
      }
    }
    r = await runCli(["get", "openai"], { env: { ...two.env, ...shared, AUTHSOME_MASTER_KEY: Buffer.alloc(32, 6).toString("base64") } });
    assert.equal(r.code, 1, "another master key cannot open the shared store");
  } finally {
    await redis.stop();
    await one.cleanup();
    await two.cleanup();
  }
});
