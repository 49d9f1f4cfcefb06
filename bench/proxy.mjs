// bench/proxy: the same load against a local HTTPS upstream directly, through the authsome
// proxy (`authsome run`, injecting an API key for the host) and through mitmproxy with an addon
// doing the same injection (what the Python authsome runs). Interleaved per cell; results and
// ratios go to docs/benchmarks.md.
//   node bench/proxy.mjs [--quick] [--no-build] [--deno] [--only=direct,authsome,tls-floor,mitmproxy,h2] [--profile]
//   h2         the HTTP/2 and gRPC cells (bench/proxy-h2.mjs; with authsome, after the HTTP/1.1 cells)
//   --deno     also runs the authsome proxy on Deno (src/ .ts)
//   --only=authsome,authsome-noscrub  response scrubbing on (the default) vs off (a rule with
//              `scrub: false`), interleaved in one run; --noscrub-first runs the off target first in
//              each cell (the first target of a cell pays the load generator's warm-up: run both orders)
//   --profile  writes a CPU profile of the authsome process to <tmpdir>/authsome-profiles/ (not to the docs)
//   BENCH_NODE_FLAGS="--import=./probe.mjs ..."  extra Node flags for the authsome process (investigation)
//   --compare=NAME=DIR[,NAME=DIR]  also runs the authsome CLI of other (built) checkouts,
//              interleaved, as `authsome-NAME`: before/after numbers from one run (not to the docs)
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent, ProxyAgent } from "undici";
import { runLoad } from "./load.mjs";
import { HOST, AUTHORIZATION, cpuMsOf, memoryOf, resetPeak, settle, waitForQuiet, setupHome, startAuthsomeRun, startMitmdump, startTlsFloor, startUpstream, stopAll, watchdog } from "./procs.mjs";
import { machineFacts, writeSection } from "./report.mjs";
import { h2Report, runH2Cells, startH2Upstream } from "./proxy-h2.mjs";

const argv = process.argv.slice(2);
const quick = argv.includes("--quick");
const profile = argv.includes("--profile");
const only = argv.find((a) => a.startsWith("--only="))?.slice(7).split(",");
const want = (name) => only === undefined || only.includes(name);
const compare = (argv.find((a) => a.startsWith("--compare="))?.slice(10).split(",") ?? []).map((spec) => spec.split("="));
// The HTTP/2 and gRPC cells (proxy-h2.mjs) add about two minutes to the HTTP/1.1 ones.
watchdog((quick ? 5 : 12) * 60_000, "bench/proxy");

const SCALE = quick ? 0.25 : 1;
const CELLS = [
  { body: "small", path: "/small", bytes: 0, concurrency: 1, requests: 3000, warmup: 100 },
  { body: "small", path: "/small", bytes: 0, concurrency: 16, requests: 8000, warmup: 20 },
  { body: "small", path: "/small", bytes: 0, concurrency: 32, requests: 8000, warmup: 20 },
  { body: "1 MiB", path: "/big", bytes: 1 << 20, concurrency: 1, requests: 300, warmup: 10 },
  { body: "1 MiB", path: "/big", bytes: 1 << 20, concurrency: 16, requests: 600, warmup: 3 },
  { body: "1 MiB", path: "/big", bytes: 1 << 20, concurrency: 32, requests: 600, warmup: 2 },
];
// --clients=1,16 and --body=small|big run a subset of the cells (investigation; not to the docs).
const clientsArg = argv.find((a) => a.startsWith("--clients="))?.slice(10).split(",").map(Number);
const bodyArg = argv.find((a) => a.startsWith("--body="))?.slice(7);
const cells = CELLS.filter((c) => (clientsArg === undefined || clientsArg.includes(c.concurrency)) && (bodyArg === undefined || (bodyArg === "big") === (c.bytes > 0)));
const partial = only !== undefined || cells.length !== CELLS.length || compare.length > 0;
const SMALL_BYTES = Buffer.byteLength(JSON.stringify({ ok: true, injected: true }));

if (!argv.includes("--no-build")) {
  // The daemon is the built CLI (dist/), as installed; rebuild so it runs the current src/.
  const build = spawnSync(process.execPath, ["scripts/build.mjs"], { stdio: "inherit" });
  if (build.status !== 0) process.exit(1);
}

const dir = mkdtempSync(join(tmpdir(), "authsome-bench-proxy-"));
const targets = [];
let backgroundBusy = 0;
try {
  const upstream = await startUpstream(dir);
  // The HTTP/2 and gRPC upstream (proxy-h2.mjs), reached by the same name on its own ports.
  const h2up = want("h2") && want("authsome") ? await startH2Upstream(dir) : null;
  const resolveSpec = [`${HOST}:${upstream.port}:127.0.0.1`, ...(h2up === null ? [] : [`${HOST}:${h2up.port}:127.0.0.1`, `${HOST}:${h2up.grpcPort}:127.0.0.1`])].join(",");
  const upstreamCas = join(dir, "upstream-cas.pem");
  writeFileSync(upstreamCas, upstream.caPem + (h2up?.caPem ?? ""));
  const origin = `https://${HOST}:${upstream.port}`;
  if (want("direct")) {
    targets.push({ name: "direct", origin: `https://127.0.0.1:${upstream.port}`, headers: { authorization: AUTHORIZATION }, dispatcher: () => new Agent({ connect: { ca: upstream.caPem, servername: HOST } }) });
  }
  const home = join(dir, "home");
  mkdirSync(home);
  const env = { ...setupHome(home, [HOST]), AUTHSOME_UPSTREAM_RESOLVE: resolveSpec, AUTHSOME_UPSTREAM_CA: upstreamCas };
  const daemons = [];
  const proxied = (name, p) => ({ name, origin, headers: {}, pid: p.pid, dispatcher: () => new ProxyAgent({ uri: p.proxyUrl, requestTls: { ca: p.caPem } }) });
  if (want("authsome")) {
    const profileDir = join(tmpdir(), "authsome-profiles");
    const nodeFlags = profile ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : (process.env.BENCH_NODE_FLAGS?.split(" ").filter(Boolean) ?? []);
    const run = await startAuthsomeRun(env, { nodeFlags });
    daemons.push(run);
    targets.push(proxied("authsome", run));
  }
  if (only?.includes("authsome-noscrub")) {
    // The same proxy with response scrubbing off (the rule opts out): what scrubbing costs.
    const offHome = join(dir, "home-noscrub");
    mkdirSync(offHome);
    const offEnv = { ...setupHome(offHome, [HOST], ".", { scrub: false }), AUTHSOME_UPSTREAM_RESOLVE: resolveSpec, AUTHSOME_UPSTREAM_CA: upstream.caFile };
    const run = await startAuthsomeRun(offEnv);
    daemons.push(run);
    if (argv.includes("--noscrub-first")) targets.unshift(proxied("authsome-noscrub", run));
    else targets.push(proxied("authsome-noscrub", run));
  }
  for (const [name, root] of compare) {
    const otherHome = join(dir, `home-${name}`);
    mkdirSync(otherHome);
    const otherEnv = { ...setupHome(otherHome, [HOST], root), AUTHSOME_UPSTREAM_RESOLVE: resolveSpec, AUTHSOME_UPSTREAM_CA: upstream.caFile };
    const run = await startAuthsomeRun(otherEnv, { root });
    daemons.push(run);
    targets.push(proxied(`authsome-${name}`, run));
  }
  if (argv.includes("--deno")) {
    const run = await startAuthsomeRun(env, { runtime: "deno" });
    daemons.push(run);
    targets.push(proxied("authsome-deno", run));
  }
  if (want("tls-floor")) {
    // Sends the header itself, as `direct` does: it does no HTTP work.
    const floor = await startTlsFloor(upstream);
    targets.push({ ...proxied("tls-floor", floor), headers: { authorization: AUTHORIZATION } });
  }
  let mitm = null;
  if (want("mitmproxy")) {
    mitm = await startMitmdump(dir, upstream.caFile);
    if (mitm !== null) targets.push(proxied("mitmproxy", mitm));
  }

  const results = [];
  // Shared machines: wait (within a budget) for other work to quiet down before each cell.
  const quietUntil = Date.now() + (quick ? 30_000 : 120_000);
  for (const cell of cells) {
    const busy = await waitForQuiet(Math.max(0, quietUntil - Date.now()));
    backgroundBusy = Math.max(backgroundBusy, busy);
    const row = { ...cell, by: {} };
    for (const target of targets) {
      const dispatcher = target.dispatcher();
      const requests = Math.max(50, Math.round(cell.requests * SCALE * (target.name === "mitmproxy" ? 0.5 : 1)));
      const check = (text) => {
        if (!JSON.parse(text).injected) throw new Error(`${target.name}: the upstream did not get the credential`);
      };
      if (target.pid !== undefined) resetPeak(target.pid);
      const cpu = {};
      const onTimed = () => {
        cpu.client = process.cpuUsage();
        cpu.server = cpuMsOf(target.pid ?? upstream.child.pid);
      };
      try {
        row.by[target.name] = await runLoad({ onTimed,
          dispatcher, origin: target.origin, path: cell.path, headers: target.headers, concurrency: cell.concurrency,
          requests, warmup: Math.max(1, Math.round(cell.warmup * SCALE)), bytes: cell.bytes || SMALL_BYTES,
          ...(cell.bytes === 0 ? { check } : {}),
        });
      } finally {
        await dispatcher.close();
      }
      const r = row.by[target.name];
      const client = process.cpuUsage(cpu.client);
      // Work the proxy still does for this load (audit writes) is charged to it, and kept out of
      // the next target's measurement.
      r.settleMs = target.pid === undefined ? 0 : await settle(target.pid);
      // CPU per request of the proxy (of the upstream for `direct`) and of the load generator:
      // unlike requests/s, it does not depend on what else the machine is doing.
      if (target.pid !== undefined) r.peakMb = memoryOf(target.pid).peakMb;
      r.serverUs = ((cpuMsOf(target.pid ?? upstream.child.pid) - cpu.server) * 1000) / requests;
      r.clientUs = (client.user + client.system) / requests;
      console.error(`${cell.body.padEnd(6)} c=${String(cell.concurrency).padEnd(2)} ${target.name.padEnd(13)} ${r.rps.toFixed(0).padStart(6)} req/s  p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms  ${target.pid ? "proxy" : "upstream"} ${r.serverUs.toFixed(0)} us/req  client ${r.clientUs.toFixed(0)} us/req${r.peakMb ? `  peak ${r.peakMb.toFixed(0)} MB` : ""}${r.settleMs > 300 ? `  (busy ${(r.settleMs / 1000).toFixed(1)} s after the load)` : ""}`);
    }
    results.push(row);
  }
  // Peak RSS under load: the highest of the per-cell peaks (each cell resets the high-water mark).
  const memory = Object.fromEntries(targets.filter((t) => t.pid !== undefined).map((t) => [t.name, { peakMb: Math.max(...results.map((row) => row.by[t.name]?.peakMb ?? 0)) }]));
  // HTTP/2 and gRPC through the same authsome run, after the HTTP/1.1 cells (same run, same machine state).
  const h2rows = h2up === null || daemons[0] === undefined ? [] : await runH2Cells(h2up, daemons[0], SCALE);
  report(results, memory, mitm?.version, h2rows);
} finally {
  // A profiled daemon writes its profile on exit, after its audit backlog: give it time.
  await stopAll(profile ? 60_000 : 2000);
  if (profile) console.error(`CPU profile of the authsome process: ${join(tmpdir(), "authsome-profiles")}/ (open in Chrome DevTools)`);
  rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
}

function report(results, memory, mitmVersion, h2rows = []) {
  const names = targets.map((t) => t.name);
  const proxies = names.filter((n) => n !== "direct");
  const fmt = (r) => (r === undefined ? "- | - | -" : `${r.rps.toFixed(0)} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)}`);
  const ratio = (a, b) => (a === undefined || b === undefined ? "-" : `${(a.rps / b.rps).toFixed(2)}x`);
  const us = (r, field) => (r === undefined ? "-" : r[field].toFixed(0));
  const cell = (body, c) => results.find((r) => r.body === body && r.concurrency === c)?.by ?? {};
  const speed = [
    `| body | clients | ${names.map((n) => `${n} req/s | p50 ms | p99 ms`).join(" | ")} | authsome/direct | authsome/mitmproxy |`,
    `|---|---|${names.map(() => "---|---|---|").join("")}---|---|`,
    ...results.map((row) => `| ${row.body} | ${row.concurrency} | ${names.map((n) => fmt(row.by[n])).join(" | ")} | ${ratio(row.by.authsome, row.by.direct)} | ${ratio(row.by.authsome, row.by.mitmproxy)} |`),
  ];
  // What a request costs in CPU, whatever else runs: at saturation 2 cores serve about
  // 2 s / (client + proxy + upstream CPU per request) requests per second.
  const bound = (by, n) => {
    const d = by.direct;
    const p = by[n];
    if (d === undefined || p === undefined) return "-";
    return `${((d.clientUs + d.serverUs) / (p.clientUs + p.serverUs + d.serverUs)).toFixed(2)}x`;
  };
  const cost = [
    `| body | clients | upstream CPU us/req (direct) | ${proxies.map((n) => `${n} CPU us/req`).join(" | ")} | client CPU us/req (${names.join(" / ")}) | ${proxies.map((n) => `${n} peak RSS`).join(" | ")} | authsome/direct bound from CPU |`,
    `|---|---|---|${proxies.map(() => "---|").join("")}---|${proxies.map(() => "---|").join("")}---|`,
    ...results.map((row) => `| ${row.body} | ${row.concurrency} | ${us(row.by.direct, "serverUs")} | ${proxies.map((n) => us(row.by[n], "serverUs")).join(" | ")} | ${names.map((n) => us(row.by[n], "clientUs")).join(" / ")} | ${proxies.map((n) => (row.by[n]?.peakMb ? `${row.by[n].peakMb.toFixed(0)} MB` : "-")).join(" | ")} | ${bound(row.by, "authsome")} |`),
  ];
  const c1 = cell("small", 1);
  const added = c1.authsome && c1.direct ? c1.authsome.p50 - c1.direct.p50 : NaN;
  const addedMitm = c1.mitmproxy && c1.direct ? c1.mitmproxy.p50 - c1.direct.p50 : NaN;
  const mem = (n) => (memory[n] ? `${memory[n].peakMb.toFixed(0)} MB` : "-");
  const verdict = (ok) => (ok === undefined || Number.isNaN(ok) ? "not measured" : ok ? "met" : "**missed**");
  const loaded = [["small", 16], ["1 MiB", 16], ["small", 32], ["1 MiB", 32]].map(([b, c]) => ({ label: `${b} c${c}`, by: cell(b, c) }));
  const list = (f) => loaded.map((l) => `${l.label} ${f(l.by)}`).join(", ");
  const vsMitm = loaded.every((l) => l.by.authsome && l.by.mitmproxy) ? loaded.every((l) => l.by.authsome.rps >= 5 * l.by.mitmproxy.rps) : undefined;
  // No proxy can serve more than direct: where 5x mitmproxy is above direct, the target is out of reach.
  const beyondDirect = loaded.filter((l) => l.by.mitmproxy && l.by.direct && 5 * l.by.mitmproxy.rps > l.by.direct.rps);
  const mitmNote = beyondDirect.length === 0 ? "" : ` (out of reach for ${beyondDirect.map((l) => `${l.label}: 5x mitmproxy = ${(5 * l.by.mitmproxy.rps).toFixed(0)} req/s > direct ${l.by.direct.rps.toFixed(0)}`).join("; ")})`;
  const vsDirect = loaded.every((l) => l.by.authsome && l.by.direct) ? loaded.every((l) => l.by.authsome.rps >= 0.4 * l.by.direct.rps) : undefined;
  const small32 = cell("small", 32).authsome?.peakMb;
  const peak = memory.authsome?.peakMb;
  const flags = argv.filter((a) => a !== "--no-build" && a !== "--profile").join(" ");
  const a32 = cell("small", 32);
  // The same run's `tls-floor` row: what terminating TLS twice costs before any HTTP work.
  const floorReading = () => {
    if (!loaded.every((l) => l.by["tls-floor"] && l.by.direct)) return "";
    return `\`tls-floor\` (bench/tls-floor.mjs) is the floor for any proxy that terminates TLS twice in Node on these cores: CONNECT, TLS both ways and bytes piped, with no HTTP parsing, injection or audit; it reaches ${list((by) => ratio(by["tls-floor"], by.direct))} of direct, and authsome ${list((by) => ratio(by.authsome, by["tls-floor"]))} of that floor.`;
  };
  const text = [
    `Command: \`node bench/proxy.mjs${flags ? ` ${flags}` : ""}\` (${machineFacts()}; mitmproxy ${mitmVersion ?? "not installed"}; other work on the cores before a cell: at most ${(backgroundBusy * 100).toFixed(0)}%).`,
    "",
    "One Node process generates the load (undici; `Agent` direct, `ProxyAgent` through a proxy, the right CA trusted), the upstream is a second Node process (HTTPS, keep-alive, certificates from its own CA), the proxy a third: all on the same two cores. Each client keeps one connection (one CONNECT tunnel through a proxy) and sends requests back to back; warm-up requests are discarded, then a fixed number is timed. `authsome` is `authsome run` from the built CLI: a provider plugin declares the host, logged in with an API key; `AUTHSOME_UPSTREAM_RESOLVE`/`AUTHSOME_UPSTREAM_CA` point it at the local upstream; every request gets the key injected and audited. `mitmproxy` is `mitmdump -q -s bench/mitm-inject.py`: the same header for the same host, the Python authsome's way. `direct` sends the header itself, and so does `tls-floor` (bench/tls-floor.mjs: TLS terminated and re-encrypted, bytes piped, no HTTP work: the floor for a TLS-intercepting proxy in Node).",
    "",
    ...speed,
    "",
    "Cost per request: CPU time (user + system, all threads) of the proxy process, or of the upstream for `direct`, and of the load generator, per timed request, including work the proxy still does after the load (audit writes); peak RSS of the proxy process during the cell. Unlike requests/s these do not depend on what else the machine runs. The last column is the ratio the CPU costs allow on a saturated machine: (client + upstream) / (client + proxy + upstream).",
    "",
    ...cost,
    "",
    "| target (issue 5) | measured | |",
    "|---|---|---|",
    `| c=1, small: authsome adds <= 0.3 ms to the direct p50 | +${added.toFixed(2)} ms (mitmproxy +${addedMitm.toFixed(2)} ms) | ${verdict(added <= 0.3)} |`,
    `| c=16, 32: >= 5x mitmproxy requests/s | ${list((by) => ratio(by.authsome, by.mitmproxy))}${mitmNote} | ${verdict(vsMitm)} |`,
    `| c=16, 32: >= 0.4x direct requests/s | ${list((by) => ratio(by.authsome, by.direct))} | ${verdict(vsDirect)} |`,
    `| proxy peak RSS under 32-client load <= 100 MB | small bodies ${small32?.toFixed(0) ?? "-"} MB; highest of any cell ${Object.keys(memory).map((n) => `${n} ${mem(n)}`).join(", ")} | ${verdict(peak === undefined ? undefined : peak <= 100)} |`,
    "",
    `Reading: one agent making one request at a time waits ${added.toFixed(2)} ms longer per request through authsome than it would talking to the server directly (mitmproxy doing the same job: ${addedMitm.toFixed(2)} ms); against a real API, whose answers take tens to hundreds of milliseconds, that is lost in the noise. Sixteen or thirty-two agents at full speed get ${list((by) => ratio(by.authsome, by.mitmproxy))} the requests per second they would through mitmproxy. A proxy that opens and re-encrypts every request cannot match a direct connection on the same two cores: here it reaches ${list((by) => ratio(by.authsome, by.direct))} of direct, and the CPU cost per request above is what bounds it${a32.authsome ? ` (small bodies, 32 clients: ${a32.authsome.serverUs.toFixed(0)} us in the proxy against ${a32.direct?.serverUs.toFixed(0) ?? "?"} us in the upstream)` : ""}. ${floorReading()} Large bodies cost per byte in any TLS-terminating proxy (decrypt, then encrypt again); there authsome serves ${list((by) => ratio(by.authsome, by.mitmproxy))} of mitmproxy's requests per second, and 5x would be more than the direct connection serves. The proxy process peaked at ${mem("authsome")}.`,
    ...(h2rows.length === 0 ? [] : ["", h2Report(h2rows)]),
  ].join("\n");
  console.log(text);
  // Partial or profiled runs are for investigation: they do not replace the published results.
  if (!partial && !profile) writeSection("proxy", text);
}
