// Processes the benchmarks start: the HTTPS upstream, `authsome run` holding its proxy open
// (the daemon whose RSS is reported), mitmdump with the injecting addon. Every one is killed by
// `stopAll()`, and a watchdog ends the whole benchmark if it runs past its budget.
import { spawn, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import net from "node:net";
import { join } from "node:path";

const started = [];
export const HOST = "api.bench.test";
export const API_KEY = "sk-bench-0000000000000000000000000000";
export const AUTHORIZATION = `Bearer ${API_KEY}`;

/** Stops every process started here (stdin closed, then SIGTERM by pid); resolves when all exited. */
export function stopAll(graceMs = 2000) {
  const running = started.filter((child) => child.exitCode === null && child.signalCode === null);
  const exited = running.map((child) => new Promise((resolve) => child.once("exit", resolve)));
  for (const child of running) {
    child.stdin?.end();
    // A grace period first: `authsome run` ends when its child does, and flushes on the way.
    const kill = () => child.exitCode === null && child.signalCode === null && child.kill("SIGTERM");
    if (graceMs === 0) kill();
    else setTimeout(kill, graceMs).unref();
  }
  return Promise.all(exited);
}

/** Ends the process (and its children) after `ms`, whatever it is doing. */
export function watchdog(ms, what) {
  setTimeout(() => {
    console.error(`${what}: still running after ${ms / 1000} s; stopping`);
    void stopAll(0);
    process.exit(2);
  }, ms).unref();
  for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => (void stopAll(0), process.exit(130)));
}

/** Spawns a child and resolves with its first stdout line (and the child). */
export function spawnLine(command, args, options = {}) {
  const child = spawn(command, args, { stdio: ["pipe", "pipe", "pipe"], ...options });
  started.push(child);
  let stderr = "";
  child.stderr.on("data", (d) => (stderr = (stderr + d).slice(-4000)));
  return new Promise((resolve, reject) => {
    let out = "";
    const onData = (d) => {
      out += d;
      const nl = out.indexOf("\n");
      if (nl < 0) return;
      child.stdout.off("data", onData);
      child.stdout.resume();
      resolve({ child, line: out.slice(0, nl) });
    };
    child.stdout.on("data", onData);
    child.once("exit", (code) => reject(new Error(`${command} ${args.join(" ")} exited (${code}) before it was ready:\n${stderr}`)));
  });
}

/** The local HTTPS upstream (bench/upstream.mjs); its CA goes to `<dir>/upstream-ca.pem`. */
export async function startUpstream(dir, names = []) {
  const caFile = join(dir, "upstream-ca.pem");
  const { child, line } = await spawnLine(process.execPath, ["--import", "tsx", "bench/upstream.mjs", caFile, AUTHORIZATION, names.join(",")]);
  return { child, port: JSON.parse(line).port, caFile, caPem: readFileSync(caFile, "utf8") };
}

/** Runs the built CLI to completion (for setup); throws with its stderr on failure. */
export function cli(env, args, input = "", root = ".") {
  const r = spawnSync(process.execPath, [join(root, "bin/authsome.mjs"), ...args], { env, input, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`authsome ${args.join(" ")} failed: ${r.stderr}`);
  return r.stdout;
}

/**
 * A temporary home with a provider plugin declaring `hosts` (any port), logged in with an API
 * key through the CLI, as a user would.
 */
export function setupHome(home, hosts, root = ".", rule = {}) {
  const env = { ...process.env, AUTHSOME_HOME: home, NO_COLOR: "1" };
  for (const name of ["AUTHSOME_PROFILE", "AUTHSOME_STORAGE", "AUTHSOME_MASTER_KEY", "AUTHSOME_PASSPHRASE"]) delete env[name];
  const plugin = join(home, "benchco.json");
  writeFileSync(plugin, JSON.stringify({ name: "benchco", authType: "api_key", inject: hosts.map((host) => ({ host, ...rule })) }));
  cli(env, ["providers", "add", plugin], "", root);
  cli(env, ["login", "benchco"], API_KEY, root);
  return env;
}

/**
 * `authsome run` with a child that prints the proxy URL and CA the run gave it, then waits for
 * stdin to close. The `authsome` process is the proxy daemon. `runtime` "deno" runs src/ on Deno;
 * `root` is the checkout whose CLI runs (another one for before/after comparisons).
 */
export async function startAuthsomeRun(env, { runtime = "node", nodeFlags = [], root = "." } = {}) {
  const print = "console.log(JSON.stringify({proxy:process.env.HTTPS_PROXY,ca:process.env.NODE_EXTRA_CA_CERTS}));process.stdin.resume();process.stdin.on('end',()=>process.exit(0))";
  const prefix =
    runtime === "deno"
      ? ["node_modules/.bin/deno", ["run", "-A", "--no-check", join(root, "src/cli/main.ts")]]
      : [process.execPath, [...nodeFlags, join(root, "bin/authsome.mjs")]];
  const { child, line } = await spawnLine(prefix[0], [...prefix[1], "run", "--", process.execPath, "-e", print], { env });
  const { proxy, ca } = JSON.parse(line);
  return { child, proxyUrl: proxy, caPem: readFileSync(ca, "utf8"), pid: child.pid };
}

/** bench/tls-floor.mjs: a TLS-terminating relay that does no HTTP work (the floor). */
export async function startTlsFloor(upstream, host = HOST) {
  const { child, line } = await spawnLine(process.execPath, ["--import", "tsx", "bench/tls-floor.mjs", String(upstream.port), upstream.caFile, host]);
  const { proxy, ca } = JSON.parse(line);
  return { child, pid: child.pid, proxyUrl: proxy, caPem: ca };
}

/** mitmdump with bench/mitm-inject.py, or null (and how to install it) when it is missing. */
export async function startMitmdump(dir, upstreamCaFile, host = HOST) {
  const version = spawnSync("mitmdump", ["--version"], { encoding: "utf8" });
  if (version.status !== 0) {
    console.error("mitmdump not found: mitmproxy rows are skipped. Install it with `apt-get install -y mitmproxy` (Debian) or `pipx install mitmproxy`.");
    return null;
  }
  const port = await freePort();
  const confdir = join(dir, "mitmproxy");
  const args = ["-q", "--listen-host", "127.0.0.1", "--listen-port", String(port), "--set", `confdir=${confdir}`, "--set", `ssl_verify_upstream_trusted_ca=${upstreamCaFile}`, "-s", "bench/mitm-inject.py"];
  const child = spawn("mitmdump", args, { stdio: ["pipe", "ignore", "pipe"], env: { ...process.env, BENCH_HOST: host, BENCH_AUTHORIZATION: AUTHORIZATION } });
  started.push(child);
  await waitForPort(port, child);
  return { child, pid: child.pid, proxyUrl: `http://127.0.0.1:${port}`, caPem: readFileSync(join(confdir, "mitmproxy-ca-cert.pem"), "utf8"), version: /Mitmproxy: (\S+)/.exec(version.stdout)?.[1] ?? "?" };
}

/** A TCP port that was free a moment ago. */
export function freePort() {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port, child) {
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error("mitmdump exited at start");
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, "127.0.0.1", () => (s.destroy(), resolve(true)));
      s.on("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("mitmdump did not start listening within 15 s");
}

/** Peak and current resident set size of a process, in MB (Linux /proc). */
export function memoryOf(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (field) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
    return { peakMb: kb("VmHWM") / 1024, rssMb: kb("VmRSS") / 1024 };
  } catch {
    return { peakMb: NaN, rssMb: NaN };
  }
}

function _cpuTimes() {
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = (line[3] ?? 0) + (line[4] ?? 0);
  return { idle, total: line.reduce((a, b) => a + b, 0) };
}

/** Share of all cores busy over `ms` (Linux /proc/stat), 0..1; NaN where unavailable. */
export async function cpuBusy(ms = 1000) {
  try {
    const a = _cpuTimes();
    await new Promise((r) => setTimeout(r, ms));
    const b = _cpuTimes();
    return 1 - (b.idle - a.idle) / Math.max(1, b.total - a.total);
  } catch {
    return NaN;
  }
}

/**
 * Waits (at most `maxMs`) until other work leaves the cores mostly idle, so that shared-machine
 * noise (tests, CI) does not land in the numbers. Returns the last busy share seen.
 */
export async function waitForQuiet(maxMs = 120_000, threshold = 0.15) {
  const deadline = Date.now() + maxMs;
  let busy = await cpuBusy();
  while (busy > threshold && Date.now() < deadline) {
    console.error(`cores ${(busy * 100).toFixed(0)}% busy with other work; waiting for them to quiet down`);
    busy = await cpuBusy(3000);
  }
  return busy;
}

/** CPU time (user + system) a process has used so far, in ms (Linux /proc). */
export function cpuMsOf(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in 1/100 s
  } catch {
    return NaN;
  }
}

/**
 * Waits until a process has (nearly) stopped using CPU, so that work it still does for the
 * last load (the proxy's audit writes) is charged to that load and not to the next target's.
 * Returns the ms waited; gives up after `maxMs`.
 */
export async function settle(pid, maxMs = 30_000) {
  const start = Date.now();
  let last = cpuMsOf(pid);
  while (Date.now() - start < maxMs) {
    await new Promise((r) => setTimeout(r, 250));
    const now = cpuMsOf(pid);
    if (!(now - last > 25)) break; // under 10% of a core over 250 ms, or the process is gone
    last = now;
  }
  return Date.now() - start;
}

/** `cli` without blocking the event loop (for servers running in this process); resolves stdout. */
export function cliAsync(env, args, input = "", root = ".") {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(root, "bin/authsome.mjs"), ...args], { env, stdio: ["pipe", "pipe", "pipe"] });
    started.push(child);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve(stdout) : reject(new Error(`authsome ${args.join(" ")} failed (${code}): ${stderr}`))));
    child.stdin.end(input);
  });
}

/** Resets a process's peak RSS (VmHWM) to its current RSS (Linux clear_refs); false if refused. */
export function resetPeak(pid) {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, "5");
    return true;
  } catch {
    return false;
  }
}
