/**
 * A daemon for a hundred agents (issue 14): with `authsome serve` running, 100 `authsome run`s
 * started at once are all hosted by it and all get the key injected; and a run whose daemon does
 * not answer says so and hosts its own proxy.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { cliCommand, runCli } from "../helpers/cli.ts";
import { type HomeWithUpstream, startHomeWithUpstream } from "../helpers/cli-upstream.ts";

const KEY = "acme-key-many-runs-0001";
const RUNS = Number(process.env["TEST_RUNS"] ?? 100);
let setup: HomeWithUpstream;

before(async () => {
  setup = await startHomeWithUpstream(["api"]);
  const plugin = join(setup.home.home, "acme.json");
  await writeFile(plugin, JSON.stringify({ name: "acme", authType: "api_key", inject: [{ host: "api.example.test" }] }));
  assert.equal((await runCli(["providers", "add", plugin], { env: setup.env })).code, 0);
  assert.equal((await runCli(["login", "acme"], { env: setup.env, input: KEY })).code, 0);
});
after(async () => {
  await setup.upstream.close();
  await setup.home.cleanup();
});

/** Starts `authsome serve --port 0` and resolves once it listens. */
async function startServe(): Promise<{ child: ChildProcess; stderr: () => string; stop(): Promise<void> }> {
  const { command, args } = cliCommand();
  const child = spawn(command, [...args, "serve", "--port", "0"], { env: { ...process.env, ...setup.env, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  const exited = new Promise<void>((resolve) => child.on("close", () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.stderr?.on("data", (d) => {
      stderr += d;
      if (stderr.includes("listening on")) resolve();
    });
    child.on("close", (code) => reject(new Error(`authsome serve exited (${code}) before listening: ${stderr}`)));
  });
  return { child, stderr: () => stderr, stop: async () => (child.kill("SIGTERM"), await exited) };
}

test(`${RUNS} concurrent runs through one daemon: every one hosted by it and injected`, async () => {
  const daemon = await startServe();
  try {
    const results = await Promise.all(Array.from({ length: RUNS }, (_, i) =>
      runCli(["run", "--", "curl", "-sS", "--fail", "--max-time", "120", `${setup.base}/many/${i}`], { env: setup.env })));
    const notHosted = results.filter((r) => !/hosted by the daemon at http:\/\/127\.0\.0\.1:\d+/.test(r.stderr));
    assert.equal(notHosted.length, 0, `runs not hosted by the daemon: ${notHosted.length}; first said: ${notHosted[0]?.stderr}`);
    assert.deepEqual(results.filter((r) => r.code !== 0).map((r) => r.stderr), []);
    const seen = setup.upstream.requests.filter((q) => q.url?.startsWith("/many/"));
    assert.equal(seen.length, RUNS);
    assert.ok(seen.every((q) => q.headers.authorization === `Bearer ${KEY}`), "every request carried the key");
    assert.ok(results.every((r) => !r.stdout.includes(KEY) && !r.stderr.includes(KEY)), "no run printed the key");
  } finally {
    await daemon.stop();
  }
});

test("a run whose daemon does not answer says so and hosts its own proxy", async () => {
  const daemon = await startServe();
  // Frozen, not gone: its address file and process remain, its port answers nothing.
  // By pid: Deno's ChildProcess.kill does not deliver SIGCONT to a stopped child.
  process.kill(daemon.child.pid ?? 0, "SIGSTOP");
  try {
    const r = await runCli(["run", "--", "curl", "-sS", "--fail", `${setup.base}/frozen-daemon`], { env: { ...setup.env, AUTHSOME_DAEMON_TIMEOUT: "1" } });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /the daemon at http:\/\/127\.0\.0\.1:\d+ did not answer .*hosting the proxy in this process/);
    assert.doesNotMatch(r.stderr, /hosted by the daemon/);
    assert.equal(setup.upstream.requests.find((q) => q.url === "/frozen-daemon")?.headers.authorization, `Bearer ${KEY}`);
  } finally {
    process.kill(daemon.child.pid ?? 0, "SIGCONT");
    await daemon.stop();
  }
});
