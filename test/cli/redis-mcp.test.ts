/**
 * MCP servers on a shared Redis store (issue 14 part 5, src/mcp/server-store.ts), through the
 * installed CLI: home A logs in to an MCP server by URL; home B, sharing the store, has no file
 * of it and yet lists the server with A's connection and knows its provider; the server record
 * in Redis is sealed (no URL in clear), and one moved to another name is refused, not used; a
 * re-encryption seals it again, and the server is still listed.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { type McpAuthServer, startMcpAuth } from "../helpers/mcp-auth.ts";
import { type McpHome, startMcpHome } from "../helpers/mcp-home.ts";
import { startMcpServer, type TestMcpServer } from "../helpers/mcp-server.ts";
import { type RedisServer, redisUnavailableReason, startRedisServer } from "../helpers/redis-server.ts";

const skip = redisUnavailableReason();

let redis: RedisServer;
let auth: McpAuthServer;
let mcp: TestMcpServer;
let homes: McpHome[] = [];

before(async () => {
  if (skip !== undefined) return;
  redis = await startRedisServer();
  auth = await startMcpAuth({ resources: () => [mcp.url] });
  mcp = await startMcpServer({ auth });
  homes = await Promise.all([0, 1].map(() => startMcpHome([mcp])));
  for (const home of homes) home.env.AUTHSOME_STORAGE = redis.url;
});
after(async () => {
  await Promise.all(homes.map((h) => h.cleanup()));
  await mcp?.close();
  await auth?.close();
  await redis?.stop();
});

interface ListedServer { name: string; url: string; issuer: string; connections: { connection: string; status: string }[] }

test("an MCP server one home logged in to is listed, with its connection, on another home of the store", { skip }, async () => {
  const [a, b] = homes as [McpHome, McpHome];
  const r = await a.login(mcp.url);
  assert.equal(r.code, 0, r.stderr);
  // A made the fleet's master key (in its home: `key rotate` below needs it there); B is given a
  // copy (machines joining with keys of their own: redis-machines.test.ts).
  b.env.AUTHSOME_MASTER_KEY = (await readFile(join(a.home.home, "master.key"), "utf8")).trim();

  const listed = await b.cli(["mcp", "list", "--json"]);
  assert.equal(listed.code, 0, listed.stderr);
  const servers = (JSON.parse(listed.stdout) as { servers: ListedServer[] }).servers;
  assert.deepEqual(servers.map((s) => [s.name, s.url, s.issuer]), [["example", mcp.url, auth.issuer]]);
  assert.deepEqual(servers[0]?.connections.map((c) => [c.connection, c.status]), [["default", "connected"]]);
  const providers = JSON.parse((await b.cli(["providers", "list", "--json"])).stdout) as { providers: { name: string; source: string }[] };
  assert.equal(providers.providers.find((p) => p.name === "example")?.source, "shared", "B knows the provider from the store");
  for (const home of homes) {
    assert.equal(existsSync(join(home.home.home, "mcp", "example.json")), false, "no home file of the server");
    assert.equal(existsSync(join(home.home.home, "plugins", "example.json")), false, "no home file of its plugin");
  }

  // Sealed: the record in Redis shows no URL; moved under another name it does not open.
  const stored = redis.cli("GET", "authsome:mcp:example");
  assert.match(stored, /authsome-mcp-server/);
  assert.ok(!stored.includes(new URL(mcp.url).host), "the server's URL is not in clear");
  redis.cli("SET", "authsome:mcp:other", stored.trim());
  redis.cli("HSET", "authsome#idx:mcp", "r:other", "0"); // into the store's index, as a write would
  const moved = (JSON.parse((await b.cli(["mcp", "list", "--json"])).stdout) as { servers: ListedServer[] }).servers;
  assert.deepEqual(moved.map((s) => s.name), ["example"], "a record moved to another name is refused");
  redis.cli("DEL", "authsome:mcp:other");
  redis.cli("HDEL", "authsome#idx:mcp", "r:other");

  // B's login to the same URL finds the server by URL in the store: A's connection is not replaced.
  const again = await b.login(mcp.url);
  assert.equal(again.code, 6, again.stderr);
  assert.match(again.stderr, /error: example already has a connection "default"/);
});

test("a re-encryption seals the server record again: it still opens", { skip }, async () => {
  const [a] = homes as [McpHome];
  const before = redis.cli("GET", "authsome:mcp:example");
  const rotated = await a.cli(["key", "rotate", "--reencrypt"]);
  assert.equal(rotated.code, 0, rotated.stderr);
  assert.notEqual(redis.cli("GET", "authsome:mcp:example"), before, "sealed again under the new data key");
  const servers = (JSON.parse((await a.cli(["mcp", "list", "--json"])).stdout) as { servers: ListedServer[] }).servers;
  assert.deepEqual(servers.map((s) => [s.name, s.url]), [["example", mcp.url]]);
});
