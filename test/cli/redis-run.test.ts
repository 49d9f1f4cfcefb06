/**
 * `authsome run` on a shared Redis store (issue 14, part 3): the proxy learns of changes from the
 * store's change feed instead of reading per request. Twenty requests through a run's proxy read
 * no record from Redis (MONITOR shows every command a client sends); a login made on another home
 * (another machine) reaches the running proxy's next request.
 */
import assert from "node:assert/strict";
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { after, before, test } from "node:test";
import { cliCommand, runCli, tempHome } from "../helpers/cli.ts";
import { startHomeWithUpstream } from "../helpers/cli-upstream.ts";
import type { TestUpstream } from "../helpers/proxy-upstream.ts";
import { type RedisServer, redisUnavailableReason, startRedisServer } from "../helpers/redis-server.ts";

const skip = redisUnavailableReason();
const MASTER_KEY = Buffer.alloc(32, 11).toString("base64");
let redis: RedisServer;
let upstream: TestUpstream;
let base: string;
let envB: Record<string, string>;
let envA: Record<string, string>;
const cleanups: (() => Promise<void>)[] = [];

before(async () => {
  if (skip !== undefined) return;
  redis = await startRedisServer();
  const b = await startHomeWithUpstream(["api"]);
  ({ upstream, base } = b);
  const a = await tempHome();
  const shared = { AUTHSOME_STORAGE: redis.url, AUTHSOME_MASTER_KEY: MASTER_KEY };
  envB = { ...b.env, ...shared };
  envA = { ...a.env, ...shared };
  cleanups.push(() => upstream.close(), () => b.home.cleanup(), () => a.cleanup());
  for (const [env, home] of [[envA, a.home], [envB, b.home.home]] as const) {
    const plugin = join(home, "acme.json");
    await writeFile(plugin, JSON.stringify({ name: "acme", authType: "api_key", inject: [{ host: "api.example.test" }] }));
    const added = await runCli(["providers", "add", plugin], { env });
    // With plugins shared through the store (issue 14 part 5) the second home finds it there.
    assert.ok(added.code === 0 || /already in the shared store/.test(added.stderr), added.stderr);
  }
  const r = await runCli(["login", "acme"], { env: envA, input: "acme-key-first-0001" });
  assert.equal(r.code, 0, r.stderr);
});
after(async () => {
  await redis?.stop();
  for (const cleanup of cleanups) await cleanup();
});

// The child: one fetch (the proxy opens its tunnel and reads the connection), then on each
// stdin line `n` more fetches, printing "done <statuses>".
/** Reads the run's stdout line by line: `next()` waits (30 s at most) for the next line. */
function lineReader(run: ChildProcessWithoutNullStreams): { next(): Promise<string>; stderr(): string } {
  let stderr = "";
  run.stderr.on("data", (d) => (stderr += d));
  const waiting: ((line: string) => void)[] = [];
  createInterface({ input: run.stdout }).on("line", (line) => waiting.shift()?.(line));
  const next = (): Promise<string> => new Promise((resolve, reject) => {
    waiting.push(resolve);
    setTimeout(() => reject(new Error(`no line from the run within 30 s: ${stderr}`)), 30_000).unref();
  });
  return { next, stderr: () => stderr };
}

const CHILD = `
const url = process.argv[1];
const once = async () => (await fetch(url)).status;
console.log("warm " + (await once()));
const rl = (await import("node:readline")).createInterface({ input: process.stdin });
for await (const line of rl) {
  if (line === "end") break;
  const statuses = [];
  for (let i = 0; i < Number(line); i++) statuses.push(await once());
  console.log("done " + statuses.join(","));
}
rl.close();
`;

test("a run's proxy reads no record per request, and a login on another home reaches its next request", { skip }, async () => {
  const { command, args } = cliCommand();
  const run = spawn(command, [...args, "run", "--", "node", "--input-type=module", "-e", CHILD, `${base}/feed`], { env: { ...process.env, ...envB, NO_COLOR: "1" }, stdio: ["pipe", "pipe", "pipe"] });
  const { next, stderr: runStderr } = lineReader(run);
  const exited = new Promise<number>((resolve) => run.on("close", (code) => resolve(code ?? -1)));
  const monitor = spawn("redis-cli", ["-p", String(redis.port), "MONITOR"], { stdio: ["ignore", "pipe", "ignore"] });
  let monitored = "";
  monitor.stdout.on("data", (d) => (monitored += d));
  try {
    assert.equal(await next(), "warm 200");
    // MONITOR answers OK first: from then on it sees every command.
    for (const deadline = Date.now() + 5_000; !monitored.includes("OK"); await new Promise((r) => setTimeout(r, 10))) assert.ok(Date.now() < deadline);
    // The first batch may re-read once: the feed's first notice (subscribed) says "read again".
    run.stdin.write("20\n");
    assert.equal(await next(), `done ${Array(20).fill(200).join(",")}`);
    monitored = "";
    run.stdin.write("20\n");
    assert.equal(await next(), `done ${Array(20).fill(200).join(",")}`);
    // Commands clients sent (not those a script ran): none reads a record.
    const reads = monitored.split("\n").filter((line) => /\[\d+ [\d.]+:\d+\]/.test(line) && /"(GET|MGET|EXISTS)" "authsome:/i.test(line));
    assert.deepEqual(reads.map((line) => line.replace(/^.*?\] /, "")), [], "per-request record reads");
    assert.deepEqual(upstream.requests.filter((q) => q.url === "/feed").map((q) => q.headers.authorization).at(-1), "Bearer acme-key-first-0001");

    const login = await runCli(["login", "acme", "--force"], { env: envA, input: "acme-key-second-0002" });
    assert.equal(login.code, 0, login.stderr);
    run.stdin.write("1\n");
    assert.equal(await next(), "done 200");
    assert.equal(upstream.requests.at(-1)?.headers.authorization, "Bearer acme-key-second-0002", "the other home's login reached the running proxy");
    run.stdin.write("end\n");
    assert.equal(await exited, 0, runStderr());
  } finally {
    monitor.kill("SIGTERM");
    run.kill("SIGTERM");
  }
});

test("Redis gone under a running proxy: the last-known key is injected for AUTHSOME_STALE_SECONDS, then no longer", { skip }, async () => {
  const { command, args } = cliCommand();
  const env = { ...process.env, ...envB, NO_COLOR: "1", AUTHSOME_STALE_SECONDS: "3" };
  const child = CHILD.replace("(await fetch(url)).status", "(async (r) => r.status === 200 ? 200 : r.status + ':' + (await r.text()).replace(/\\s+/g, ' '))(await fetch(url))");
  const run = spawn(command, [...args, "run", "--", "node", "--input-type=module", "-e", child, `${base}/stale`], { env, stdio: ["pipe", "pipe", "pipe"] });
  const { next, stderr: runStderr } = lineReader(run);
  const key = upstream.requests.filter((q) => q.url === "/feed").at(-1)?.headers.authorization;
  try {
    assert.equal(await next(), "warm 200");
    // The bound runs from the store's last vouch, which the proxy takes at each request it serves
    // from its cache while the change feed is up: this request's vouch comes after `asked`, and
    // later ones may come after the kill, before the proxy sees the feed gone. Counted from the
    // kill instead, a proxy that saw the feed gone at once (its last vouch this request's) could
    // refuse, rightly, a little under 3 s after the kill.
    const asked = Date.now();
    run.stdin.write("1\n");
    assert.equal(await next(), "done 200");
    redis.signal("SIGKILL");
    const killedAt = Date.now();
    // Sampled until the proxy stops injecting (bounded): served before the bound, refused after.
    let servedAfterKill = 0;
    let refusedAt = 0;
    let refusal = "";
    while (refusedAt === 0 && Date.now() - killedAt < 25_000) {
      run.stdin.write("1\n");
      const line = await next();
      if (line === "done 200") servedAfterKill++;
      else (refusedAt = Date.now()), (refusal = line);
    }
    assert.ok(servedAfterKill >= 1, `the last-known key was not served after the store went away: ${refusal} after ${refusedAt - killedAt} ms; ${runStderr()}`);
    assert.ok(refusedAt > 0, "the proxy kept injecting past AUTHSOME_STALE_SECONDS");
    assert.ok(refusedAt - asked >= 3_000, `refused ${refusedAt - asked} ms after the last request before the kill, before the 3 s bound: ${refusal}`);
    const stale = upstream.requests.filter((q) => q.url === "/stale");
    assert.equal(stale.length, servedAfterKill + 2, "a refused request never reached the upstream");
    assert.deepEqual(stale.map((q) => q.headers.authorization), stale.map(() => key), "every request carried the last-known key");
  } finally {
    run.kill("SIGTERM");
    await redis.restart();
  }
});

