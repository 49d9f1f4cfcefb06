// Investigation (not to the docs): the HTTP/2 cells of bench/proxy-h2.mjs only, direct and
// through `authsome run` of one or more built checkouts, interleaved for R rounds, so that two
// trees are compared under the same machine load; CPU per request is the number to compare.
//   node bench/h2-ab.mjs [--cells=small16,small100,big16,big100,grpc] [--rounds=2] [--scale=0.5]
//     [--root=NAME=DIR[:noscrub],...] [--window=BYTES (client stream window)] [--profile=NAME]
//     [--flags=NAME=FLAG+FLAG,...] [--floor]
// `:noscrub` logs that run's provider in with `scrub: false`; --profile writes a CPU profile of
// that run's proxy to <tmpdir>/h2ab-prof/; --flags starts that run's proxy with those Node flags
// (e.g. `--flags=big=--max-semi-space-size=64`); --floor adds bench/h2-floor.mjs (node:http2
// forwarding and nothing else) as the target `floor`, on the HTTP/2 cells.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { h2Socket, runH2Load, runGrpcLoad } from "./h2-load.mjs";
import { startH2Upstream } from "./proxy-h2.mjs";
import { AUTHORIZATION, HOST, cpuMsOf, setupHome, spawnLine, startAuthsomeRun, stopAll } from "./procs.mjs";

const argv = process.argv.slice(2);
const arg = (name, d) => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? d;
const SMALL = Buffer.byteLength(JSON.stringify({ ok: true, injected: true }));
const ALL = { small16: { path: "/small", bytes: SMALL, c: 16, n: 8000 }, small100: { path: "/small", bytes: SMALL, c: 100, n: 10000 }, big16: { path: "/big", bytes: 1 << 20, c: 16, n: 400 }, big100: { path: "/big", bytes: 1 << 20, c: 100, n: 500 }, grpc: { grpc: true, c: 16, n: 4000 } };
const cells = arg("cells", "small16,small100,big16,big100").split(",");
const rounds = Number(arg("rounds", "2"));
const scale = Number(arg("scale", "0.5"));
const roots = arg("root", "cur=.").split(",").map((s) => s.split("="));
const profile = arg("profile", "");
const flags = new Map(arg("flags", "").split(",").filter(Boolean).map((s) => [s.slice(0, s.indexOf("=")), s.slice(s.indexOf("=") + 1).split("+")]));
const dir = mkdtempSync(join(tmpdir(), "h2ab-"));
try {
  const up = await startH2Upstream(dir);
  const cas = join(dir, "cas.pem");
  writeFileSync(cas, up.caPem);
  const runs = [];
  for (const [name, spec] of roots) {
    const [root, noscrub] = spec.split(":");
    const home = join(dir, `home-${name}`);
    mkdirSync(home);
    const env = { ...setupHome(home, [HOST], root, noscrub === "noscrub" ? { scrub: false } : {}), AUTHSOME_UPSTREAM_RESOLVE: `${HOST}:${up.port}:127.0.0.1,${HOST}:${up.grpcPort}:127.0.0.1`, AUTHSOME_UPSTREAM_CA: cas };
    const nodeFlags = [...(profile === name ? ["--cpu-prof", `--cpu-prof-dir=${join(tmpdir(), "h2ab-prof")}`] : []), ...(flags.get(name) ?? [])];
    runs.push([name, await startAuthsomeRun(env, { root, nodeFlags })]);
  }
  if (argv.includes("--floor")) {
    const { child, line } = await spawnLine(process.execPath, ["--import", "tsx", "bench/h2-floor.mjs", String(up.port), cas, HOST, AUTHORIZATION]);
    const { proxy, ca } = JSON.parse(line);
    runs.push(["floor", { pid: child.pid, proxyUrl: proxy, caPem: ca }]);
  }
  const check = (t) => { if (!JSON.parse(t).injected) throw new Error("not injected"); };
  for (let r = 0; r < rounds; r++) {
    for (const cellName of cells) {
      const cell = ALL[cellName];
      for (const [name, via] of [["direct", undefined], ...runs]) {
        if (cell.grpc && name === "floor") continue;
        const requests = Math.max(50, Math.round(cell.n * scale));
        const pid = via?.pid ?? up.child.pid;
        const cpu = cpuMsOf(pid);
        const headers = via === undefined ? { authorization: AUTHORIZATION } : {};
        const res = cell.grpc
          ? await runGrpcLoad({ host: HOST, port: up.grpcPort, ca: via?.caPem ?? up.caPem, proxyUrl: via?.proxyUrl, headers, concurrency: cell.c, requests, warmup: 5, check })
          : await runH2Load({ socket: await h2Socket({ host: HOST, port: up.port, ca: via?.caPem ?? up.caPem, proxyUrl: via?.proxyUrl }), origin: `https://${HOST}:${up.port}`, path: cell.path, headers, concurrency: cell.c, requests, warmup: 2, bytes: cell.bytes, window: Number(arg("window", "0")), ...(cell.bytes === SMALL ? { check } : {}) });
        const us = ((cpuMsOf(pid) - cpu) * 1000) / requests;
        console.log(`${cellName.padEnd(9)} ${name.padEnd(8)} ${res.rps.toFixed(0).padStart(6)} req/s  p50 ${res.p50.toFixed(1).padStart(7)} ms  ${via ? "proxy" : "upstr"} ${us.toFixed(0).padStart(6)} us/req`);
      }
    }
  }
} finally {
  await stopAll(profile ? 30_000 : 2000);
  rmSync(dir, { recursive: true, force: true });
}
