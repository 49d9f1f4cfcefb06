/**
 * A refresher paused past its lock's TTL right after spending the refresh token (issue 14,
 * "0 invalid_grant"): two broker homes share one Redis store; the authorization server rotates
 * refresh tokens and revokes the grant when an old one is used again.
 *
 * A forwarder in front of the token endpoint lets the test act at the one moment that matters:
 * the provider has answered (the old refresh token is spent, the new one exists only in the
 * answer) and the refresher has not read it yet. The test stops the refresher there (SIGSTOP)
 * for longer than the lock's normal TTL (10 s), runs a get on the other home meanwhile, then
 * lets the refresher go on. Before the fix, the lock lapsed, the other get spent the old refresh
 * token again and the grant was revoked. Then the same with the store frozen instead of the
 * refresher: before the fix the lock had expired at the thaw and the write was refused.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { cliCommand, collectOutput, type CliResult, runCli, tempHome } from "../helpers/cli.ts";
import { browserEnv, freePort, startOidcServer, type TestOidcServer, writeTestPlugin } from "../helpers/oidc-server.ts";
import { TEST_CLIENTS } from "../helpers/oidc-provider-app.ts";
import { repoRoot } from "../helpers/spawn-runtime.ts";
import { type RedisServer, redisUnavailableReason, startRedisServer } from "../helpers/redis-server.ts";

const skip = redisUnavailableReason();
const MASTER_KEY = Buffer.alloc(32, 7).toString("base64");
/** Longer than the connection lock's TTL (src/core/lock-redis.ts): a lease that only renews lapses. */
const PAUSE_MS = 11_000;

let server: TestOidcServer;
let redis: RedisServer;
let forwarder: Server;
let homes: Awaited<ReturnType<typeof tempHome>>[] = [];
/** Set by the test: called with each refresh answer before it is passed on. */
let onRefreshAnswer: ((answer: string) => Promise<void>) | undefined;

const env = (i: number, extra: Record<string, string> = {}) => ({ ...homes[i]?.env, AUTHSOME_STORAGE: redis.url, AUTHSOME_MASTER_KEY: MASTER_KEY, ...extra });
const cli = (i: number, args: string[], extra: Record<string, string> = {}) => runCli(args, { env: env(i, extra) });
const get = ["get", "held", "--field", "access_token", "--show-secret"];

/** By pid: Deno's ChildProcess.kill does not deliver SIGCONT to a stopped child. */
function signal(pid: number | undefined, name: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
}

async function body(req: IncomingMessage): Promise<string> {
  let text = "";
  for await (const chunk of req) text += String(chunk);
  return text;
}

/** Passes every request to the authorization server; refresh answers go through `onRefreshAnswer` first. */
function forward(issuer: string) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const sent = await body(req);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) if (typeof value === "string" && !["host", "content-length", "connection"].includes(name)) headers[name] = value;
    const answer = await fetch(issuer + (req.url ?? "/"), { method: req.method ?? "GET", headers, ...(sent === "" ? {} : { body: sent }) });
    const text = await answer.text();
    if (new URLSearchParams(sent).get("grant_type") === "refresh_token") await onRefreshAnswer?.(text);
    res.writeHead(answer.status, { "content-type": answer.headers.get("content-type") ?? "application/json" });
    res.end(text);
  };
}

/** When the stored access token expires, read without refreshing it (`list` does not refresh). */
async function expiresAt(): Promise<string> {
  const r = await cli(1, ["list", "--json"]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const { providers } = JSON.parse(r.stdout) as { providers: { name: string; connections: { expires_at: string | null }[] }[] };
  const at = providers.find((p) => p.name === "held")?.connections[0]?.expires_at;
  assert.ok(typeof at === "string", r.stdout);
  return at;
}

/** The stored connection (its token is valid for an hour by then: this get does not refresh). */
async function stored(): Promise<{ status: string; secrets: Record<string, string> }> {
  const r = await cli(1, ["get", "held", "--json", "--show-secret"], { AUTHSOME_REFRESH_MARGIN: "0" });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  return JSON.parse(r.stdout) as { status: string; secrets: Record<string, string> };
}

before(async () => {
  if (skip !== undefined) return;
  server = await startOidcServer({ settings: { accessTokenTtl: 2 } });
  redis = await startRedisServer({ persistent: true });
  forwarder = createServer((req, res) => void forward(server.issuer)(req, res).catch(() => res.destroy()));
  await new Promise<void>((resolve) => forwarder.listen(0, "127.0.0.1", resolve));
  homes = await Promise.all([0, 1].map(() => tempHome()));
  const tokenUrl = `http://127.0.0.1:${(forwarder.address() as AddressInfo).port}/token`;
  const file = await writeTestPlugin(homes[0]?.home ?? "", server.issuer, "held", { flows: ["pkce"], redirectUri: `http://127.0.0.1:${await freePort()}/callback`, oauth: { tokenUrl } });
  const added = await cli(0, ["providers", "add", file]);
  assert.equal(added.code, 0, added.stderr);
  const login = await cli(0, ["login", "held", "--client-id", TEST_CLIENTS.public], browserEnv(join(homes[0]?.home ?? "", "browser.log")));
  assert.equal(login.code, 0, login.stderr);
});
after(async () => {
  await new Promise<void>((resolve) => (forwarder === undefined ? resolve() : forwarder.close(() => resolve())));
  await server?.close();
  await redis?.stop();
  await Promise.all(homes.map((h) => h.cleanup()));
});

test("a refresher paused past the lock's TTL after spending the refresh token: nobody spends it again, its successor is stored, the grant lives", { skip }, async () => {
  const expiry = Date.parse(await expiresAt());
  while (Date.now() <= expiry + 50) await new Promise((resolve) => setTimeout(resolve, 50));
  await server.settings({ accessTokenTtl: 3600 });
  const { command, args } = cliCommand();
  const refresher = spawn(command, [...args, ...get], { cwd: repoRoot, env: { ...process.env, NO_COLOR: "1", ...env(0, { AUTHSOME_REFRESH_MARGIN: "0" }) }, stdio: ["ignore", "pipe", "pipe"] });
  const refreshed = collectOutput(refresher);
  let other: CliResult | undefined;
  let rotated = "";
  onRefreshAnswer = async (answer) => {
    onRefreshAnswer = undefined;
    rotated = String((JSON.parse(answer) as Record<string, unknown>)["refresh_token"] ?? "");
    signal(refresher.pid, "SIGSTOP");
    try {
      const spentAt = Date.now();
      // The fault itself, not a wait for something: the pause must outlast a renewed TTL.
      while (Date.now() < spentAt + PAUSE_MS) await new Promise((resolve) => setTimeout(resolve, 100));
      other = await cli(1, get, { AUTHSOME_REFRESH_MARGIN: "0" });
    } finally {
      signal(refresher.pid, "SIGCONT");
    }
  };
  const result = await refreshed;
  assert.ok(other !== undefined, "the refresh never reached the token endpoint");
  assert.doesNotMatch(other.stdout + other.stderr, /invalid_grant|needs a new login/, "the other home spent the refresh token again");
  if (other.code !== 0) assert.match(other.stderr, /lock/, other.stderr);
  assert.equal(result.code, 0, result.stderr);
  const now = await stored();
  assert.equal(now.status, "connected");
  assert.equal(now.secrets["refresh_token"], rotated, "the paused refresher's rotated token is the one stored");
  assert.equal(now.secrets["access_token"], result.stdout.trim());
  assert.equal((await server.introspect(rotated)).active, true, "the grant survived");
});

test("Redis frozen past the lock's TTL between the provider's answer and the store: the rotated token is stored after the thaw, the grant lives", { skip }, async () => {
  const { command, args } = cliCommand();
  // A margin of a day: this get refreshes the hour-long token the test above stored.
  const refresher = spawn(command, [...args, ...get], { cwd: repoRoot, env: { ...process.env, NO_COLOR: "1", ...env(0, { AUTHSOME_REFRESH_MARGIN: "86400" }) }, stdio: ["ignore", "pipe", "pipe"] });
  const refreshed = collectOutput(refresher);
  let rotated = "";
  let thawed: Promise<void> | undefined;
  onRefreshAnswer = async (answer) => {
    onRefreshAnswer = undefined;
    rotated = String((JSON.parse(answer) as Record<string, unknown>)["refresh_token"] ?? "");
    redis.signal("SIGSTOP");
    // The fault itself: frozen longer than a renewed TTL; the answer reaches the refresher meanwhile.
    thawed = new Promise<void>((resolve) => setTimeout(resolve, PAUSE_MS)).then(() => redis.signal("SIGCONT"));
  };
  try {
    const result = await refreshed;
    assert.ok(thawed !== undefined, "the refresh never reached the token endpoint");
    assert.equal(result.code, 0, result.stderr);
    await thawed;
    const now = await stored();
    assert.equal(now.secrets["refresh_token"], rotated, "the rotated token is the one stored");
    assert.equal((await server.introspect(rotated)).active, true, "the grant survived");
  } finally {
    await thawed;
    redis.signal("SIGCONT");
  }
});
