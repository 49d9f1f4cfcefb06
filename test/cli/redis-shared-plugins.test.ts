/**
 * Shared plugins and profiles on one Redis store (issue 14 part 5), through the installed CLI:
 * home A adds a JSON plugin and a TypeScript module plugin (with a sign hook) and logs in; home
 * B, which has no plugin file, lists, gets and runs through both; a record altered straight in
 * Redis is refused with one line naming the record and the field; A's removal reaches B; a home
 * file that disagrees with the store loses, and doctor names it; profiles are the store's; a
 * machine that joined with its own key (issue 14 part 6) opens the records' seals and adds one.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash, createHmac } from "node:crypto";
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { runCli, tempHome } from "../helpers/cli.ts";
import { type RedisServer, redisUnavailableReason, startRedisServer } from "../helpers/redis-server.ts";
import { repoRoot } from "../helpers/spawn-runtime.ts";

const skip = redisUnavailableReason();
const MASTER_KEY = Buffer.alloc(32, 9).toString("base64");
const SECRET = "hmac-api-secret-0123456789abcdef";
const JSON_KEY = "jsonco-key-SHAREDPLUGIN-0000";
const MODULE_FILE = join(repoRoot, "test/fixtures/plugins/hmac-signed.ts");

let redis: RedisServer;
let homes: Awaited<ReturnType<typeof tempHome>>[] = [];
let server: http.Server;
let resolveHosts = "";
let port = 0;
const seen: { host: string; url: string; authorization: string | undefined; verified: boolean }[] = [];

const envOf = (i: number, extra: Record<string, string> = {}) => ({ ...homes[i]?.env, AUTHSOME_STORAGE: redis.url, AUTHSOME_MASTER_KEY: MASTER_KEY, AUTHSOME_UPSTREAM_RESOLVE: resolveHosts, ...extra });
const cli = (i: number, args: string[], input?: string, extra: Record<string, string> = {}) => runCli(args, { env: envOf(i, extra), ...(input === undefined ? {} : { input }) });
const A = 0;
const B = 1;

function jsonPlugin(name: string, host: string): string {
  return JSON.stringify({ name, displayName: `${name} API`, authType: "api_key", inject: [{ host, name: "Authorization", format: "Bearer {token}" }], env: { [`${name.toUpperCase()}_KEY`]: "api_key" } });
}

/** Writes a record straight into Redis (stdin: a record may be larger than one argv string). */
function setRecord(key: string, value: string): void {
  const r = spawnSync("redis-cli", ["-p", String(redis.port), "-x", "SET", `authsome:${key}`], { input: value, encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
}

before(async () => {
  if (skip !== undefined) return;
  redis = await startRedisServer();
  homes = await Promise.all([0, 1, 2, 3].map(() => tempHome()));
  server = http.createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => (body += chunk));
    req.on("end", () => {
      const timestamp = String(req.headers["x-timestamp"] ?? "");
      const expected = createHmac("sha256", SECRET).update(`${timestamp}\n${req.method}\n${req.url}\n${body}`).digest("hex");
      const verified = req.headers["x-signature"] === expected;
      seen.push({ host: String(req.headers.host ?? "").split(":")[0] ?? "", url: req.url ?? "", authorization: req.headers.authorization, verified });
      res.writeHead(200, { "content-type": "text/plain" });
      res.end("ok\n");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
  resolveHosts = ["plain.example.test", "jsonco.example.test"].map((h) => `${h}:${port}:127.0.0.1`).join(",");
  await writeFile(join(homes[A]?.home ?? "", "jsonco.json"), jsonPlugin("jsonco", "http://jsonco.example.test"));
});
after(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => (server === undefined ? resolve(undefined) : server.close(resolve)));
  await redis?.stop();
  await Promise.all(homes.map((h) => h.cleanup()));
});

test("A adds a JSON and a .ts plugin and logs in; B, with no plugin file, lists, gets and runs through both", { skip }, async () => {
  const steps: [string[], string?][] = [[["providers", "add", join(homes[A]?.home ?? "", "jsonco.json")]], [["providers", "add", MODULE_FILE]], [["login", "jsonco"], JSON_KEY], [["login", "hmacapi"], SECRET]];
  for (const [args, input] of steps) {
    const r = await cli(A, args, input ?? "");
    assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
  }
  const homeFiles = await readdir(join(homes[A]?.home ?? "", "plugins")).catch(() => []);
  assert.deepEqual(homeFiles, [], "with a shared store the plugin goes to the store, not the home");
  const record = JSON.parse(redis.cli("GET", "authsome:plugins:hmacapi")) as { module?: { sha256: string; source: string }; definition: { name: string } };
  assert.equal(record.definition.name, "hmacapi");
  assert.equal(record.module?.sha256, createHash("sha256").update(await readFile(MODULE_FILE, "utf8")).digest("hex"), "the module's content hash is stored");

  assert.deepEqual(await readdir(join(homes[B]?.home ?? "", "plugins")).catch(() => []), []);
  let r = await cli(B, ["providers", "list", "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const { providers } = JSON.parse(r.stdout) as { providers: { name: string; source: string }[] };
  assert.equal(providers.find((p) => p.name === "jsonco")?.source, "shared");
  assert.equal(providers.find((p) => p.name === "hmacapi")?.source, "shared");
  r = await cli(B, ["list", "--json"]);
  const listed = JSON.parse(r.stdout) as { providers: { name: string; connections: { connection: string }[] }[] };
  for (const name of ["jsonco", "hmacapi"]) assert.deepEqual(listed.providers.find((p) => p.name === name)?.connections.map((c) => c.connection), ["default"], name);
  r = await cli(B, ["get", "jsonco", "--field", "api_key", "--show-secret"]);
  assert.equal(r.stdout, `${JSON_KEY}\n`, r.stderr);
  r = await cli(B, ["inspect", "hmacapi", "--json"]);
  assert.match(r.stdout, /crypto\.subtle\.sign/, "the sign hook came with the definition");

  const before = seen.length;
  r = await cli(B, ["run", "--", "curl", "-sS", "--fail", `http://jsonco.example.test:${port}/v1/me`]);
  assert.equal(r.code, 0, r.stderr);
  r = await cli(B, ["run", "--", "curl", "-sS", "--fail", "--data", "{\"qty\":1}", `http://plain.example.test:${port}/v1/orders`]);
  assert.equal(r.code, 0, r.stderr);
  const calls = seen.slice(before);
  assert.deepEqual(calls.map((c) => [c.host, c.url]), [["jsonco.example.test", "/v1/me"], ["plain.example.test", "/v1/orders"]]);
  assert.equal(calls[0]?.authorization, `Bearer ${JSON_KEY}`, "B injects by the shared JSON plugin");
  assert.equal(calls[1]?.verified, true, "B signs by the shared module plugin's hook");
});

/** The commands `providers list` on B sends to Redis, by name (scripts' inner calls included). */
async function listCommands(): Promise<{ counts: Record<string, number>; providers: number }> {
  redis.cli("CONFIG", "RESETSTAT");
  const r = await cli(B, ["providers", "list", "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const counts: Record<string, number> = {};
  for (const m of redis.cli("INFO", "commandstats").matchAll(/^cmdstat_([a-z|]+):calls=(\d+)/gm)) {
    if (m[1] !== "config" && m[1] !== "info") counts[m[1] ?? ""] = Number(m[2]);
  }
  const listed = JSON.parse(r.stdout) as { providers: unknown[]; errors: unknown[] };
  return { counts, providers: listed.providers.length + listed.errors.length };
}

test("providers list sends the same commands to Redis with 2 and with 12 plugin records", { skip }, async () => {
  const few = await listCommands();
  const good = JSON.parse(redis.cli("GET", "authsome:plugins:jsonco")) as { definition: Record<string, unknown> };
  const names = Array.from({ length: 10 }, (_, i) => `bulk${i}`);
  for (const name of names) {
    setRecord(`plugins:${name}`, JSON.stringify({ ...good, name, definition: { ...good.definition, name, env: { [`BULK${name.slice(4)}_KEY`]: "api_key" } } }));
    redis.cli("HSET", "authsome#idx:plugins", `r:${name}`, "0");
  }
  // Copies re-named without the fleet's key: each is read (and refused at its seal) like a real one.
  const many = await listCommands();
  assert.equal(many.providers, few.providers + 10);
  assert.deepEqual(many.counts, few.counts, "the plugin index in one walk, every record in one MGET");
  for (const name of names) {
    redis.cli("DEL", `authsome:plugins:${name}`);
    redis.cli("HDEL", "authsome#idx:plugins", `r:${name}`);
  }
});

test("a record altered straight in Redis is refused with one line naming the record and the field", { skip }, async () => {
  const r0 = await cli(A, ["providers", "add", join(homes[A]?.home ?? "", "jsonco.json"), "--force"]);
  assert.equal(r0.code, 0, r0.stderr);
  const good = JSON.parse(redis.cli("GET", "authsome:plugins:jsonco")) as Record<string, unknown> & { definition: Record<string, unknown> };
  const hmac = JSON.parse(redis.cli("GET", "authsome:plugins:hmacapi")) as { module: { source: string } };
  const cases: [string, string, RegExp][] = [
    ["a bad rule", JSON.stringify({ ...good, definition: { ...good.definition, inject: [{ host: 42 }] } }), /field "inject\[0\]\.host"/],
    ["an unknown envelope field", JSON.stringify({ ...good, run: "sh" }), /field "run"/],
    ["another name", JSON.stringify({ ...good, definition: { ...good.definition, name: "openai" } }), /field "definition\.name"/],
    ["not JSON", "{\"kind\":", /invalid JSON/],
    ["too large", JSON.stringify({ ...good, definition: { ...good.definition, displayName: "x".repeat(3 * 1024 * 1024) } }), /larger than/],
    ["a valid rule sending the key elsewhere", JSON.stringify({ ...good, definition: { ...good.definition, inject: [{ host: "http://attacker.example.test", name: "Authorization", format: "Bearer {token}" }] } }), /field "seal": does not match the record/],
    ["another plugin's sealed record under this name", JSON.stringify({ ...hmac, name: "jsonco", definition: { ...(hmac as unknown as { definition: Record<string, unknown> }).definition, name: "jsonco" } }), /field "seal": does not open with this fleet's key/],
    ["a module that is not the hashed one", JSON.stringify({ ...hmac, name: "jsonco", definition: good.definition, module: { ...hmac.module, source: `${hmac.module.source}\n// altered` } }), /field "module\.sha256"/],
  ];
  for (const [what, value, field] of cases) {
    setRecord("plugins:jsonco", value);
    const r = await cli(B, ["get", "jsonco"]);
    assert.equal(r.code, 1, `${what}: ${r.stderr}`);
    const lines = r.stderr.trim().split("\n").filter((l) => !/^\s/.test(l)); // the hint is indented
    assert.equal(lines.length, 1, `${what}: ${r.stderr}`);
    assert.match(lines[0] ?? "", /plugin record plugins:jsonco in redis:\/\/127\.0\.0\.1:\d+\/0:/, what);
    assert.match(lines[0] ?? "", field, what);
    const list = await cli(B, ["providers", "list", "--json"]);
    assert.equal(list.code, 0, `${what}: a refused record hides only itself: ${list.stderr}`);
    const listed = JSON.parse(list.stdout) as { providers: { name: string }[]; errors: { source: string }[] };
    assert.ok(listed.providers.some((p) => p.name === "hmacapi") && !listed.providers.some((p) => p.name === "jsonco"), what);
    assert.match(listed.errors[0]?.source ?? "", /plugins:jsonco/, what);
  }
  setRecord("plugins:jsonco", JSON.stringify(good));
  assert.equal((await cli(B, ["get", "jsonco"])).code, 0, "the restored record is accepted again");

  // A key no plugin can have, put into the store's index by hand: refused by name, never read.
  redis.cli("HSET", "authsome#idx:plugins", "r:Evil\nName", "0");
  setRecord("plugins:Evil\nName", JSON.stringify(good));
  const list = await cli(B, ["providers", "list", "--json"]);
  assert.equal(list.code, 0, list.stderr);
  const { errors } = JSON.parse(list.stdout) as { errors: { source: string; message: string }[] };
  assert.equal(errors.length, 1, list.stdout);
  assert.match(errors[0]?.message ?? "", /^plugin record plugins:"Evil\\nName" in redis:\/\/[^\n]*field "name": not a plugin name/);
  redis.cli("HDEL", "authsome#idx:plugins", "r:Evil\nName");
});

test("four concurrent adds of one name from two machines: one is added, three are told it exists", { skip }, async () => {
  const files = await Promise.all([0, 1, 2, 3].map(async (i) => {
    const file = join(homes[i % 2]?.home ?? "", `racy-${i}.json`);
    await writeFile(file, jsonPlugin("racy", `api${i}.racy.example.test`));
    return file;
  }));
  const results = await Promise.all(files.map((file, i) => cli(i % 2, ["providers", "add", file])));
  assert.deepEqual(results.map((r) => r.code).sort(), [0, 7, 7, 7], results.map((r) => r.stderr).join(""));
  const winner = results.findIndex((r) => r.code === 0);
  const r = await cli(B, ["inspect", "racy", "--json"]);
  assert.match(r.stdout, new RegExp(`api${winner}\\.racy`), "the store holds the one that was reported added");
  assert.equal((await cli(A, ["providers", "remove", "racy"])).code, 0);
});

test("a home file that disagrees with the store's plugin loses, and doctor names it", { skip }, async () => {
  const dir = join(homes[B]?.home ?? "", "plugins");
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFile(join(dir, "jsonco.json"), jsonPlugin("jsonco", "elsewhere.example.test"), { mode: 0o600 });
  let r = await cli(B, ["inspect", "jsonco", "--json"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /jsonco\.example\.test/);
  assert.doesNotMatch(r.stdout, /elsewhere/);
  r = await cli(B, ["doctor", "--json"]);
  const checks = (JSON.parse(r.stdout) as { checks: { name: string; ok: boolean; fix?: string }[] }).checks;
  const shadow = checks.find((c) => c.name === "shared plugins");
  assert.equal(shadow?.ok, false, r.stdout);
  assert.match(shadow?.fix ?? "", /plugins\/jsonco\.json differs from the shared store's "jsonco"/);
  await rm(join(dir, "jsonco.json"));
});

test("A removes a plugin fleet-wide: B no longer lists or knows it", { skip }, async () => {
  let r = await cli(A, ["providers", "remove", "jsonco"]);
  assert.equal(r.code, 0, r.stderr);
  r = await cli(B, ["providers", "list", "--json"]);
  const { providers } = JSON.parse(r.stdout) as { providers: { name: string }[] };
  assert.ok(!providers.some((p) => p.name === "jsonco"));
  assert.ok(providers.some((p) => p.name === "hmacapi"), "the other shared plugin stays");
  r = await cli(B, ["get", "jsonco"]);
  assert.equal(r.code, 4, r.stderr);
  assert.match(r.stderr, /unknown provider "jsonco"/);
  r = await cli(A, ["providers", "remove", "jsonco"]);
  assert.equal(r.code, 4, "a second removal finds nothing");
});

test("profiles are the store's: created on A, listed and used on B; which one is current stays per home", { skip }, async () => {
  let r = await cli(A, ["profile", "create", "ci", "--description", "CI runners"]);
  assert.equal(r.code, 0, r.stderr);
  r = await cli(B, ["profile", "list", "--json"], undefined, { AUTHSOME_PROFILE: "ci" });
  const onB = (JSON.parse(r.stdout) as { profiles: { name: string; description: string | null; current: boolean }[] }).profiles;
  assert.deepEqual(onB.map((p) => [p.name, p.description, p.current]), [["default", null, false], ["ci", "CI runners", true]]);
  r = await cli(A, ["profile", "list", "--json"]);
  assert.deepEqual((JSON.parse(r.stdout) as { profiles: { name: string; current: boolean }[] }).profiles.map((p) => [p.name, p.current]), [["default", true], ["ci", false]]);
  r = await cli(B, ["profile", "create", "ci"]);
  assert.equal(r.code, 6, "B sees A's profile: already exists");
  r = await cli(B, ["login", "hmacapi", "--profile", "ci"], "ci-secret-000000000000000000");
  assert.equal(r.code, 0, r.stderr);
  r = await cli(A, ["get", "hmacapi", "--profile", "ci", "--field", "api_key", "--show-secret"]);
  assert.equal(r.stdout, "ci-secret-000000000000000000\n", r.stderr);
  r = await cli(A, ["get", "hmacapi", "--profile", "nope"]);
  assert.match(r.stderr, /no profile "nope" in redis:\/\/127\.0\.0\.1:\d+\/0/);
});

test("a machine that joined with its own key (no copied master key) reads, uses and adds shared plugins", { skip }, async () => {
  const C = 2;
  const own = { AUTHSOME_MASTER_KEY: "" };
  let r = await cli(C, ["machine", "join", "--json"], undefined, own);
  assert.equal(r.code, 0, r.stderr);
  const request = JSON.parse(r.stdout) as { id: string; fingerprint: string };
  r = await cli(A, ["machine", "approve", `${request.id}.${request.fingerprint}`]);
  assert.equal(r.code, 0, r.stderr);
  r = await cli(C, ["providers", "list", "--json"], undefined, own);
  assert.equal(r.code, 0, r.stderr);
  const listed = JSON.parse(r.stdout) as { providers: { name: string; source: string }[]; errors: unknown[] };
  assert.equal(listed.providers.find((p) => p.name === "hmacapi")?.source, "shared", "the seal opens with the data key wrapped for this machine");
  assert.deepEqual(listed.errors, []);
  r = await cli(C, ["get", "hmacapi", "--profile", "ci", "--field", "api_key", "--show-secret"], undefined, own);
  assert.equal(r.stdout, "ci-secret-000000000000000000\n", r.stderr);
  await writeFile(join(homes[C]?.home ?? "", "fromc.json"), jsonPlugin("fromc", "api.fromc.example.test"));
  r = await cli(C, ["providers", "add", join(homes[C]?.home ?? "", "fromc.json")], undefined, own);
  assert.equal(r.code, 0, r.stderr);
  r = await cli(A, ["inspect", "fromc", "--json"]);
  assert.equal(r.code, 0, `what the joined machine sealed, the others open: ${r.stderr}`);
  assert.match(r.stdout, /api\.fromc\.example\.test/);
});

test("key rotate --reencrypt seals the plugin records again under the default profile's new data key", { skip }, async () => {
  // Its own database and a home whose master key is a file (a key from the environment is not rotated).
  const D = 3;
  const own = { AUTHSOME_STORAGE: redis.url.replace(/\/0$/, "/1"), AUTHSOME_MASTER_KEY: "" };
  const sealOf = () => (JSON.parse(spawnSync("redis-cli", ["-p", String(redis.port), "-n", "1", "GET", "authsome:plugins:jsonco"], { encoding: "utf8" }).stdout) as { seal: { ct: string } }).seal.ct;
  let r = await cli(D, ["providers", "add", join(homes[A]?.home ?? "", "jsonco.json")], undefined, own);
  assert.equal(r.code, 0, r.stderr);
  const before = sealOf();
  r = await cli(D, ["key", "rotate", "--reencrypt"], undefined, own);
  assert.equal(r.code, 0, r.stderr);
  assert.notEqual(sealOf(), before, "the seal was made again");
  r = await cli(D, ["providers", "list", "--json"], undefined, own);
  const listed = JSON.parse(r.stdout) as { providers: { name: string; source: string }[]; errors: unknown[] };
  assert.deepEqual(listed.errors, [], r.stdout);
  assert.equal(listed.providers.find((p) => p.name === "jsonco")?.source, "shared");
});
