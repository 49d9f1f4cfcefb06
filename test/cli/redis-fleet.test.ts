/**
 * Three homes standing in for three machines, sharing one Redis store and one master key
 * (issue 14): the fleet audit log (every machine's entries in one chain, each naming its
 * machine; `audit --verify` checks it and exits 10 on an edited entry), no lock on the audit
 * path (a stale audit lock left in Redis delays nobody), and the store's errors as the CLI
 * prints them (down, wrong password, frozen during a login: not stored).
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { runCli, tempHome } from "../helpers/cli.ts";
import { type RedisServer, redisUnavailableReason, startRedisServer } from "../helpers/redis-server.ts";

const skip = redisUnavailableReason();
const MASTER_KEY = Buffer.alloc(32, 7).toString("base64");

let redis: RedisServer;
let homes: Awaited<ReturnType<typeof tempHome>>[] = [];
const envOf = (i: number, extra: Record<string, string> = {}) => ({ ...homes[i]?.env, AUTHSOME_STORAGE: redis.url, AUTHSOME_MASTER_KEY: MASTER_KEY, ...extra });
const cli = (i: number, args: string[], input?: string, extra: Record<string, string> = {}) => runCli(args, { env: envOf(i, extra), ...(input === undefined ? {} : { input }) });

interface Entry {
  action: string;
  machine?: string;
  hostname?: string;
  provider?: string;
  connection?: string;
}

before(async () => {
  if (skip !== undefined) return;
  redis = await startRedisServer();
  homes = await Promise.all([0, 1, 2].map(() => tempHome()));
});
after(async () => {
  await redis?.stop();
  await Promise.all(homes.map((h) => h.cleanup()));
});

test("the fleet audit log: every machine's entries in one chain, each with its machine id; --verify checks it and exits 10 on an edited entry", { skip }, async () => {
  for (const i of [0, 1, 2]) {
    const r = await cli(i, ["login", "openai", "--connection", `m${i}`], `sk-fleet-${i}-000000000000000000000`);
    assert.equal(r.code, 0, r.stderr);
  }
  assert.equal((await cli(2, ["get", "openai", "--connection", "m0"])).code, 0);
  const { entries } = JSON.parse((await cli(1, ["audit", "--json"])).stdout) as { entries: Entry[] };
  const logins = entries.filter((e) => e.action === "login");
  assert.deepEqual(logins.map((e) => e.connection), ["m0", "m1", "m2"], "one log for the fleet, in order");
  assert.equal(new Set(logins.map((e) => e.machine)).size, 3, "each home has its own machine id");
  for (const e of entries) assert.ok(typeof e.hostname === "string" && e.hostname !== "", "each entry names its host");
  let r = await cli(0, ["audit", "--verify"]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, new RegExp(`ok: ${entries.length} entries`));

  // Edit one entry in place: rebuild the stream with the same ids, the second login's connection changed.
  const stream = "authsome#audit:default";
  const raw = redis.cli("--no-raw", "XRANGE", stream, "-", "+");
  const ids = [...raw.matchAll(/"(\d+-\d+)"/g)].map((m) => m[1] ?? "");
  assert.equal(ids.length, entries.length);
  const lines = ids.map((id) => redis.cli("XRANGE", stream, id, id).trim().split("\n").at(-1) ?? "");
  redis.cli("DEL", stream);
  ids.forEach((id, n) => redis.cli("XADD", stream, id, "e", n === 1 ? (lines[n] ?? "").replace('"m1"', '"mX"') : (lines[n] ?? "")));
  r = await cli(2, ["audit", "--verify"]);
  assert.equal(r.code, 10, r.stdout + r.stderr);
  assert.match(r.stdout, /BROKEN at line 2/);
  redis.cli("DEL", stream, "authsome#audit-head:default");
});

test("a stale audit lock left in Redis delays no login, and the key is stored (issue 14)", { skip }, async () => {
  redis.cli("SET", "authsome-lock:audit.default", "x", "PX", "30000");
  const started = Date.now();
  const r = await cli(0, ["login", "openai", "--connection", "stale"], "sk-stale-0000000000000000000000");
  assert.equal(r.code, 0, r.stderr);
  assert.ok(Date.now() - started < 8_000, `login took ${Date.now() - started} ms`);
  assert.doesNotMatch(r.stderr, /warning/);
  const got = await cli(1, ["get", "openai", "--connection", "stale", "--field", "api_key", "--show-secret"]);
  assert.equal(got.stdout.trim(), "sk-stale-0000000000000000000000");
  redis.cli("DEL", "authsome-lock:audit.default");
});

test("a wrong Redis password: one line saying authentication failed, never the password", { skip }, async () => {
  const guarded = await startRedisServer({ password: "right-pw" });
  try {
    const url = new URL(guarded.url);
    const r = await cli(0, ["list"], undefined, { AUTHSOME_STORAGE: `redis://:wrong-pw@${url.host}/0` });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /authentication failed/);
    assert.ok(!(r.stdout + r.stderr).includes("wrong-pw"));
    const json = await cli(0, ["list", "--json"], undefined, { AUTHSOME_STORAGE: `redis://:wrong-pw@${url.host}/0` });
    assert.equal((JSON.parse(json.stdout) as { error: string }).error, "store_auth_failed");
  } finally {
    await guarded.stop();
  }
});

test("a store that is down: `list` fails in one line naming the store, with a hint, within the deadline", { skip }, async () => {
  const started = Date.now();
  const r = await cli(0, ["list", "--json"], undefined, { AUTHSOME_STORAGE: "redis://:pw-down@127.0.0.1:1/0" });
  assert.equal(r.code, 1);
  const body = JSON.parse(r.stdout) as { error: string; message: string; hint?: string };
  assert.equal(body.error, "store_unavailable");
  assert.match(body.message, /redis:\/\/:\*\*\*@127\.0\.0\.1:1\/0/);
  assert.match(body.hint ?? "", /AUTHSOME_STORAGE/);
  assert.ok(!r.stdout.includes("pw-down"));
  assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
});

test("Redis frozen (SIGSTOP) during a login: the login fails within the deadline and, after SIGCONT, nothing was stored", { skip }, async () => {
  assert.equal((await cli(0, ["list"])).code, 0);
  redis.signal("SIGSTOP");
  let r;
  const started = Date.now();
  try {
    r = await cli(1, ["login", "openai", "--connection", "frozen"], "sk-frozen-00000000000000000000000");
  } finally {
    redis.signal("SIGCONT");
  }
  const elapsed = Date.now() - started;
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /did not answer/);
  assert.ok(elapsed < 12_000, `took ${elapsed} ms`);
  const got = await cli(2, ["get", "openai", "--connection", "frozen"]);
  assert.equal(got.code, 3, "a login reported as failed was not stored");
});
