// bench/store: what a store's size costs (issue 14). For the fs store and a Redis store
// (redis-server started here), with 10 and with 1,000 connections in the profile:
// - `authsome list --json` and `authsome get benchco --json`: wall time per command (median);
// - proxy requests/s and proxy CPU per request through `authsome run` (8 clients, small bodies).
// Goals: 1,000 vs 10 connections <= 1.2x for each, fs and Redis; Redis vs fs per-request proxy
// cost <= 1.1x. `list` is measured in its steady state: on fs, a first untimed `list` per home,
// at least RACY_MS after the last write (files changed more recently are never cached), builds
// the listing cache (src/core/storage/listing-cache.ts); that first `list`'s CPU is reported apart.
//
//   node bench/store.mjs [--quick] [--no-build]     (writes the `store` section of docs/benchmarks.md unless --quick)
import { spawn, spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { ProxyAgent } from "undici";
import { runLoad } from "./load.mjs";
import { API_KEY, HOST, cpuMsOf, freePort, settle, startAuthsomeRun, startUpstream, stopAll, waitForQuiet, watchdog } from "./procs.mjs";
import { machineFacts, writeSection } from "./report.mjs";

const argv = process.argv.slice(2);
const quick = argv.includes("--quick");
const SIZES = [10, 1000];
const RUNS = quick ? 3 : 11;
const REQUESTS = quick ? 1500 : 6000;
const MASTER_KEY = Buffer.alloc(32, 3).toString("base64");
const SMALL_BYTES = Buffer.byteLength(JSON.stringify({ ok: true, injected: true }));
watchdog(quick ? 600_000 : 1_500_000, "bench/store");

if (!argv.includes("--no-build") && spawnSync(process.execPath, ["scripts/build.mjs"], { stdio: "inherit" }).status !== 0) process.exit(1);
// A copy of the built CLI: a rebuild in the checkout meanwhile (tests) must not swap its chunks.
const dir = mkdtempSync(join(tmpdir(), "authsome-bench-store-"));
const ROOT = join(dir, "pkg");
for (const part of ["bin", "dist", "package.json"]) cpSync(part, join(ROOT, part), { recursive: true });
symlinkSync(resolve("node_modules"), join(ROOT, "node_modules"));
const { createAuthService } = await import(join(ROOT, "dist/index.mjs"));

/** A redis-server for the bench (no persistence: the bench measures reads). */
async function startRedis(dir) {
  const port = await freePort();
  const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir], { stdio: "ignore" });
  for (let i = 0; i < 200; i++) {
    if (spawnSync("redis-cli", ["-p", String(port), "PING"], { encoding: "utf8" }).stdout.trim() === "PONG") return { child, url: `redis://127.0.0.1:${port}/0` };
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("redis-server did not start");
}

function cli(env, args) {
  const r = spawnSync(process.execPath, [join(ROOT, "bin/authsome.mjs"), ...args], { env, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`authsome ${args.join(" ")} failed: ${r.stderr}`);
  return r.stdout;
}

/** A home whose profile holds `size` connections of the benchco provider (the default one injected). */
async function seedHome(dir, spec, size) {
  const home = join(dir, `home-${spec === "fs" ? "fs" : "redis"}-${size}`);
  mkdirSync(home);
  const env = { ...process.env, AUTHSOME_HOME: home, AUTHSOME_STORAGE: spec === "fs" ? "" : spec, AUTHSOME_MASTER_KEY: MASTER_KEY, AUTHSOME_KEYRING: "0", AUTHSOME_PROFILE: "", NO_COLOR: "1" };
  const plugin = join(home, "benchco.json");
  writeFileSync(plugin, JSON.stringify({ name: "benchco", authType: "api_key", inject: [{ host: HOST }] }));
  cli(env, ["providers", "add", plugin]);
  const service = await createAuthService({ home, ...(spec === "fs" ? {} : { storage: spec }), masterKey: MASTER_KEY });
  await service.login("benchco", { connection: "default", apiKey: API_KEY });
  for (let i = 1; i < size; i++) await service.login("benchco", { connection: `c${i}`, apiKey: `${API_KEY}-${i}` });
  await service.close?.();
  return env;
}

/** src/core/storage/listing-cache.ts RACY_MS, plus a margin. */
const RACY_MS = 3500;
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** Wall time and CPU time (user + system, ms) of one run of the CLI command. */
function timeOnce(env, args) {
  const command = [process.execPath, join(ROOT, "bin/authsome.mjs"), ...args].map((a) => `'${a}'`).join(" ");
  const started = process.hrtime.bigint();
  const r = spawnSync("bash", ["-c", `TIMEFORMAT='%3U %3S'; time ${command} > /dev/null`], { env, encoding: "utf8" });
  const wall = Number(process.hrtime.bigint() - started) / 1e6;
  if (r.status !== 0) throw new Error(`authsome ${args.join(" ")} failed: ${r.stderr}`);
  const [user, system] = r.stderr.trim().split("\n").at(-1).split(" ").map(Number);
  return { wall, cpu: (user + system) * 1000 };
}

/**
 * Median wall time and median CPU time of `RUNS` runs of the CLI command in each home, the
 * homes taking turns: the small and the large store then meet the same load on a shared, busy
 * machine (measured one after the other, a load change between them was read as their ratio).
 * CPU time is what such a machine distorts least: wall time mostly measures the wait for a core.
 */
function medianMsEach(envs, args) {
  const runs = envs.map(() => ({ wall: [], cpu: [] }));
  for (let i = 0; i < RUNS; i++) {
    envs.forEach((env, n) => {
      const { wall, cpu } = timeOnce(env, args);
      runs[n].wall.push(wall);
      runs[n].cpu.push(cpu);
    });
  }
  return runs.map((r) => ({ wall: median(r.wall), cpu: median(r.cpu) }));
}

/** Requests/s and proxy CPU per request through `authsome run` on this home. */
async function proxyLoad(env, upstream) {
  const run = await startAuthsomeRun({ ...env, AUTHSOME_UPSTREAM_RESOLVE: `${HOST}:${upstream.port}:127.0.0.1`, AUTHSOME_UPSTREAM_CA: upstream.caFile }, { root: ROOT });
  const dispatcher = new ProxyAgent({ uri: run.proxyUrl, requestTls: { ca: run.caPem } });
  let cpuStart = 0;
  try {
    const r = await runLoad({
      dispatcher, origin: `https://${HOST}:${upstream.port}`, path: "/", headers: {}, concurrency: 8, requests: REQUESTS, warmup: 20, bytes: SMALL_BYTES,
      check: (text) => {
        if (!JSON.parse(text).injected) throw new Error("the upstream did not get the credential");
      },
      onTimed: () => (cpuStart = cpuMsOf(run.pid)),
    });
    await settle(run.pid);
    return { rps: r.rps, us: ((cpuMsOf(run.pid) - cpuStart) * 1000) / REQUESTS };
  } finally {
    await dispatcher.close();
    run.child.stdin.end();
  }
}

const rows = [];
try {
  const upstream = await startUpstream(dir);
  const redis = await startRedis(dir);
  for (const spec of ["fs", redis.url]) {
    // One Redis database per home, so the small home's listing holds only its own records.
    const envs = [];
    for (const [n, size] of SIZES.entries()) envs.push(await seedHome(dir, spec === "fs" ? spec : spec.replace(/\/0$/, `/${n}`), size));
    const seeded = Date.now();
    await waitForQuiet(quick ? 10_000 : 60_000);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, seeded + RACY_MS - Date.now())));
    const firstList = envs.map((env) => timeOnce(env, ["list", "--json"]).cpu);
    const lists = medianMsEach(envs, ["list", "--json"]);
    const gets = medianMsEach(envs, ["get", "benchco", "--json"]);
    for (const [n, size] of SIZES.entries()) {
      const env = envs[n];
      await waitForQuiet(quick ? 10_000 : 60_000);
      const [list, get] = [lists[n], gets[n]];
      const row = { store: spec === "fs" ? "fs" : "redis", size, firstListCpu: firstList[n], listMs: list.wall, listCpu: list.cpu, getMs: get.wall, getCpu: get.cpu, ...(await proxyLoad(env, upstream)) };
      console.error(`${row.store.padEnd(5)} ${String(size).padStart(4)} connections: list ${row.listMs.toFixed(0)} ms (${row.listCpu.toFixed(0)} CPU), get ${row.getMs.toFixed(0)} ms (${row.getCpu.toFixed(0)} CPU), proxy ${row.rps.toFixed(0)} req/s, ${row.us.toFixed(0)} us CPU/req`);
      rows.push(row);
    }
  }
  redis.child.kill("SIGTERM");
} finally {
  await stopAll(0);
  rmSync(dir, { recursive: true, force: true });
}

const at = (store, size) => rows.find((r) => r.store === store && r.size === size);
const ratio = (a, b) => (a / b).toFixed(2);
const lines = [
  `Machine: ${machineFacts()}. Command: \`node bench/store.mjs\`. ${RUNS} runs per CLI command and home, the 10- and 1,000-connection homes taking turns (median wall time and median CPU time, user + system, process start included); proxy: ${REQUESTS} small requests, 8 clients, through \`authsome run\` (built CLI), CPU of the proxy process per request. The goals are judged on CPU time: on a shared machine wall time mostly measures the wait for a core.`,
  "",
  "| store | connections | `list` wall ms | `list` CPU ms | `get` wall ms | `get` CPU ms | proxy req/s | proxy CPU us/req |",
  "|---|---|---|---|---|---|---|---|",
  ...rows.map((r) => `| ${r.store} | ${r.size} | ${r.listMs.toFixed(0)} | ${r.listCpu.toFixed(0)} | ${r.getMs.toFixed(0)} | ${r.getCpu.toFixed(0)} | ${r.rps.toFixed(0)} | ${r.us.toFixed(0)} |`),
  "",
  "| goal | fs | redis |",
  "|---|---|---|",
  ...["listCpu", "getCpu"].map((k) => `| \`${k === "listCpu" ? "list" : "get"}\` CPU, 1,000 vs 10 connections <= 1.2x | ${ratio(at("fs", 1000)[k], at("fs", 10)[k])}x | ${ratio(at("redis", 1000)[k], at("redis", 10)[k])}x |`),
  `| proxy req/s 10 vs 1,000 connections <= 1.2x (wall: load-sensitive) | ${ratio(at("fs", 10).rps, at("fs", 1000).rps)}x | ${ratio(at("redis", 10).rps, at("redis", 1000).rps)}x |`,
  `| proxy CPU per request 1,000 vs 10 connections <= 1.2x | ${ratio(at("fs", 1000).us, at("fs", 10).us)}x | ${ratio(at("redis", 1000).us, at("redis", 10).us)}x |`,
  `| proxy CPU per request, Redis vs fs <= 1.1x (10 / 1,000 connections) | ${ratio(at("redis", 10).us, at("fs", 10).us)}x / ${ratio(at("redis", 1000).us, at("fs", 1000).us)}x | |`,
  "",
  `First \`list\` after the seeding (untimed above; one run; on fs it builds the listing cache): fs ${at("fs", 10).firstListCpu.toFixed(0)} / ${at("fs", 1000).firstListCpu.toFixed(0)} ms CPU, Redis ${at("redis", 10).firstListCpu.toFixed(0)} / ${at("redis", 1000).firstListCpu.toFixed(0)} ms CPU (10 / 1,000 connections).`,
];
console.log(lines.join("\n"));
if (!quick) writeSection("store", lines.join("\n"));
