// N concurrent `authsome run`s against one `authsome serve` (issue 14: a daemon for a hundred
// agents). Each run's child is `sh -c 'curl …; grep VmHWM /proc/$PPID/status'`: curl fetches the
// HTTPS upstream of bench/upstream.mjs through the run's proxy, then the shell prints the peak RSS of its parent,
// the `authsome run` process. Reported: how many runs the daemon hosted, how many got the key
// injected, wall time for all N, the daemon's RSS, a run process's peak RSS (hosted and, for
// comparison in the same run, self-hosted without a daemon), and the sum over all processes.
//   node bench/daemon.mjs [N=100]
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HOST, memoryOf, setupHome, startUpstream, stopAll, waitForQuiet, watchdog } from "./procs.mjs";

const N = Number(process.argv[2] ?? 100);
watchdog(600_000, "bench/daemon");

/** Runs `authsome run -- sh -c …` and resolves with what it said and its peak RSS in MB. */
function oneRun(env, url) {
  const script = `curl -sS --max-time 60 ${url}; echo; grep VmHWM /proc/$PPID/status`;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["bin/authsome.mjs", "run", "--", "sh", "-c", script], { env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.on("close", (code) => {
      const kb = Number(/VmHWM:\s+(\d+)/.exec(out)?.[1] ?? NaN);
      resolve({ code, injected: out.includes('"injected":true'), hosted: /hosted by the daemon/.test(err), fellBack: /hosting the proxy itself|daemon .*did not/.test(err), peakMb: kb / 1024, err });
    });
  });
}

function startDaemon(env) {
  const daemon = spawn(process.execPath, ["bin/authsome.mjs", "serve", "--port", "0"], { env, stdio: ["pipe", "ignore", "pipe"] });
  return new Promise((resolve, reject) => {
    let err = "";
    daemon.stderr.on("data", (d) => {
      err += d;
      if (err.includes("listening on")) resolve(daemon);
    });
    daemon.on("exit", (code) => reject(new Error(`authsome serve exited (${code}): ${err}`)));
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const dir = mkdtempSync(join(tmpdir(), "authsome-bench-daemon-"));
const upstream = await startUpstream(dir, [HOST]);
mkdirSync(join(dir, "home"));
const env = { ...setupHome(join(dir, "home"), [HOST]), AUTHSOME_UPSTREAM_RESOLVE: `${HOST}:${upstream.port}:127.0.0.1`, AUTHSOME_UPSTREAM_CA: upstream.caFile };
const url = `https://${HOST}:${upstream.port}/small`;
await waitForQuiet(Number(process.env.BENCH_QUIET_MS ?? 120_000));

const alone = await oneRun(env, url);
const daemon = await startDaemon(env);
const started = Date.now();
const runs = await Promise.all(Array.from({ length: N }, () => oneRun(env, url)));
const wallMs = Date.now() - started;
const daemonMem = memoryOf(daemon.pid);
const hosted = runs.filter((r) => r.hosted);
const row = {
  runs: N,
  hosted: hosted.length,
  injected: runs.filter((r) => r.injected).length,
  failed: runs.filter((r) => r.code !== 0).length,
  wall_s: +(wallMs / 1000).toFixed(1),
  daemon_rss_mb: +daemonMem.rssMb.toFixed(0),
  daemon_peak_mb: +daemonMem.peakMb.toFixed(0),
  run_peak_mb_hosted: +median(hosted.map((r) => r.peakMb)).toFixed(0),
  run_peak_mb_self_hosted: +alone.peakMb.toFixed(0),
  total_peak_mb: +(daemonMem.peakMb + runs.reduce((s, r) => s + (r.peakMb || 0), 0)).toFixed(0),
};
console.log(JSON.stringify(row));
const failure = runs.find((r) => r.code !== 0) ?? runs.find((r) => !r.hosted || !r.injected);
if (failure !== undefined) console.error(`a run that failed or was not hosted (exit ${failure.code}):\n${failure.err.slice(-1500)}`);
daemon.stdin.end();
daemon.kill("SIGTERM");
await stopAll(0);
rmSync(dir, { recursive: true, force: true });
