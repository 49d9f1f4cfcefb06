/**
 * `authsome run` end to end: the real CLI starts its proxy, real clients (curl, python3 urllib,
 * Node fetch and node:https, Deno fetch) reach a local HTTPS upstream through it, and the
 * upstream, not the child, sees the credential.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import net from "node:net";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { cliCommand, runCli, tempHome } from "../helpers/cli.ts";
import { startHomeWithUpstream } from "../helpers/cli-upstream.ts";
import type { TestUpstream } from "../helpers/proxy-upstream.ts";
import { repoRoot } from "../helpers/spawn-runtime.ts";

const DEFAULT_KEY = "acme-key-default-0001";
const WORK_KEY = "acme-key-work-0002";
let home: Awaited<ReturnType<typeof tempHome>>;
let upstream: TestUpstream;
let env: Record<string, string>;
let base: string;

before(async () => {
  ({ home, upstream, env, base } = await startHomeWithUpstream(["api", "other"]));
  const plugin = join(home.home, "acme.json");
  await writeFile(plugin, JSON.stringify({ name: "acme", authType: "api_key", inject: [{ host: "api.example.test" }], env: { ACME_API_KEY: "api_key" } }));
  for (const args of [["providers", "add", plugin], ["login", "acme"], ["login", "acme", "--connection", "work"]]) {
    const r = await runCli(args, { env, input: args.includes("work") ? WORK_KEY : DEFAULT_KEY });
    assert.equal(r.code, 0, r.stderr);
  }
});
after(async () => {
  await upstream.close();
  await home.cleanup();
});

const lastAuth = () => upstream.requests.at(-1)?.headers.authorization;
const run = (args: string[]) => runCli(["run", ...args], { env });

test("curl through authsome run: the upstream gets the key, the child never does", async () => {
  const before = upstream.requests.length;
  const r = await run(["--", "curl", "-sS", "--fail", `${base}/v1/models`]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(upstream.requests.length, before + 1);
  assert.equal(lastAuth(), `Bearer ${DEFAULT_KEY}`);
  assert.ok(!r.stdout.includes(DEFAULT_KEY));
  const audit = await runCli(["audit", "--json"], { env });
  const injections = (JSON.parse(audit.stdout) as { entries: { action: string; host?: string; provider?: string; connection?: string; status?: number; method?: string }[] }).entries.filter((e) => e.action === "inject");
  assert.ok(injections.some((e) => e.host === "api.example.test" && e.provider === "acme" && e.connection === "default" && e.status === 200 && e.method === "GET"), `the injection was audited: ${JSON.stringify(injections)}`);
  assert.ok(!audit.stdout.includes(DEFAULT_KEY));
});

test("python3 urllib through authsome run", async () => {
  const script = `import urllib.request; print(urllib.request.urlopen("${base}/py").status)`;
  const r = await run(["--", "python3", "-c", script]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), "200");
  assert.equal(lastAuth(), `Bearer ${DEFAULT_KEY}`);
});

test("a Node child: fetch and node:https both go through the proxy (preload)", async () => {
  const r = await run(["--", "node", join(repoRoot, "test/fixtures/run/node-client.mjs"), `${base}/node`]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^fetch 200 /m);
  assert.match(r.stdout, /^https 200 /m);
  const seen = upstream.requests.filter((q) => q.url === "/node");
  assert.equal(seen.length, 2);
  for (const q of seen) assert.equal(q.headers.authorization, `Bearer ${DEFAULT_KEY}`);
});

test("a Deno child: fetch honours the proxy variables and DENO_CERT", async () => {
  const deno = join(repoRoot, "node_modules/.bin/deno");
  if (spawnSync(deno, ["--version"]).status !== 0) return assert.fail("deno binary missing");
  const r = await run(["--", deno, "eval", `const r = await fetch("${base}/deno"); console.log(r.status);`]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), "200");
  assert.equal(upstream.requests.find((q) => q.url === "/deno")?.headers.authorization, `Bearer ${DEFAULT_KEY}`);
});

test("only a deno child is given ALL_PROXY (SOCKS5); Python's httpx, the OpenAI SDK's client, starts and gets the key", async () => {
  const deno = join(repoRoot, "node_modules/.bin/deno");
  const denoSees = await run(["--", deno, "eval", `console.log(Deno.env.get("ALL_PROXY") ?? "none")`]);
  assert.equal(denoSees.code, 0, denoSees.stderr);
  assert.match(denoSees.stdout.trim(), /^socks5h:\/\/_:[^@]+@127\.0\.0\.1:\d+$/);
  const shellSees = await runCli(["run", "--", "sh", "-c", 'echo "${ALL_PROXY-none} ${all_proxy-none}"'], { env: { ...env, ALL_PROXY: "socks5://elsewhere:1080" } });
  assert.equal(shellSees.stdout.trim(), "none none", "an inherited ALL_PROXY is removed too: it would bypass the proxy");
  const script = `import httpx\nr = httpx.get("${base}/httpx")\nprint(r.status_code)`;
  const r = await run(["--", "/usr/bin/python3", "-c", script]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), "200");
  assert.equal(upstream.requests.find((q) => q.url === "/httpx")?.headers.authorization, `Bearer ${DEFAULT_KEY}`);
});

test("the child's environment and argv hold no secret, only placeholders and the proxy", async () => {
  const r = await run(["--", "sh", "-c", "tr '\\0' '\\n' < /proc/$$/environ; echo ARGV; tr '\\0' ' ' < /proc/$$/cmdline"]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(!r.stdout.includes(DEFAULT_KEY) && !r.stdout.includes(WORK_KEY));
  assert.match(r.stdout, /^ACME_API_KEY=authsome-managed-[A-Za-z0-9]{24}$/m);
  assert.match(r.stdout, /^HTTPS_PROXY=http:\/\/_:[A-Za-z0-9_-]+@127\.0\.0\.1:\d+$/m);
  assert.match(r.stdout, /^https_proxy=/m);
  assert.match(r.stdout, /^SSL_CERT_FILE=.*ca-bundle\.pem$/m);
  assert.match(r.stdout, /^NODE_OPTIONS=--import file:.*preload\.mjs$/m);
  assert.doesNotMatch(r.stdout, /AUTHSOME_MASTER_KEY/);
});

test("--connection provider=NAME selects a connection for the whole run; the exit code passes through", async () => {
  let r = await run(["--connection", "acme=work", "--", "curl", "-sS", "--fail", `${base}/work`]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(lastAuth(), `Bearer ${WORK_KEY}`);
  r = await run(["--", "sh", "-c", "exit 7"]);
  assert.equal(r.code, 7);
  r = await run(["--", "no-such-command-xyz"]);
  assert.equal(r.code, 127, "a missing command exits 127, as in a shell");
});

test("--deny-unmatched: an undeclared host gets 403 and the upstream sees nothing", async () => {
  const before = upstream.requests.length;
  const r = await run(["--deny-unmatched", "--", "curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", `https://other.example.test:${upstream.port}/x`]);
  assert.equal(upstream.requests.length, before);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr + r.stdout, /403|other\.example\.test/);
});

test("a login made while a run is going is used by the run's next request", async () => {
  const { command, args } = cliCommand();
  const child = spawn(command, [...args, "run", "--", "node", join(repoRoot, "test/fixtures/run/node-client.mjs"), `${base}/live`, "wait"], { env: { ...process.env, ...env, NO_COLOR: "1" }, stdio: ["pipe", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  const firstDone = new Promise<void>((resolve) => child.stdout.on("data", (d) => {
    stdout += d;
    if (stdout.includes("fetch 200")) resolve();
  }));
  const exited = new Promise<number>((resolve) => child.on("close", (code) => resolve(code ?? -1)));
  await firstDone;
  const login = await runCli(["login", "acme", "--connection", "rotated", "--force"], { env, input: "acme-key-rotated-0003" });
  assert.equal(login.code, 0, login.stderr);
  child.stdin.write("go\n");
  assert.equal(await exited, 0, stderr);
  const live = upstream.requests.filter((q) => q.url === "/live").map((q) => q.headers.authorization);
  assert.deepEqual(live, [`Bearer ${DEFAULT_KEY}`, "Bearer acme-key-rotated-0003"]);
  await runCli(["default", "acme", "default"], { env });
});

test("with `authsome serve` running, run uses a proxy hosted by the daemon, closed when the run ends", async () => {
  const { command, args } = cliCommand();
  const daemon = spawn(command, [...args, "serve", "--port", "0"], { env: { ...process.env, ...env, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] });
  let daemonErr = "";
  const listening = new Promise<void>((resolve) => daemon.stderr.on("data", (d) => {
    daemonErr += d;
    if (daemonErr.includes("listening on")) resolve();
  }));
  const exited = new Promise<number>((resolve) => daemon.on("close", (code) => resolve(code ?? -1)));
  try {
    await listening;
    const r = await run(["--", "curl", "-sS", "--fail", `${base}/via-daemon`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /hosted by the daemon at http:\/\/127\.0\.0\.1:\d+/);
    assert.equal(upstream.requests.find((q) => q.url === "/via-daemon")?.headers.authorization, `Bearer ${DEFAULT_KEY}`);
    const port = Number(/proxy on 127\.0\.0\.1:(\d+)/.exec(r.stderr)?.[1]);
    const refused = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, "127.0.0.1");
      socket.once("connect", () => (socket.destroy(), resolve(false)));
      socket.once("error", () => resolve(true));
    });
    assert.ok(refused, "the run's proxy port is closed once the run ended");
  } finally {
    daemon.kill("SIGTERM");
  }
  // Deno's child_process reports a child it signalled as killed even when the child handled the
  // signal and exited 0, so the clean shutdown is checked by what the daemon did, not the code.
  await exited;
  assert.match(daemonErr, /daemon stopped/);
  assert.ok(!existsSync(join(home.home, "daemon.json")), "the daemon removes its address file when it stops");
});
