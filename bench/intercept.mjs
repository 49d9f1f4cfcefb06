// bench/intercept: what the in-process interceptor (`authsome-broker/intercept`, the built
// dist/intercept.mjs) adds to each fetch. A local HTTPS upstream (bench/upstream.mjs, its own
// process) answers `/small`; one worker process per runtime (Node, then Deno) makes fetches of it
// with the original `globalThis.fetch` (the worker sends the header itself) and, in the same
// rounds, interleaved, with the fetch `intercept()` patched in (a provider plugin declares the
// host, logged in with an API key; the key is injected, the response scrubbed, the use audited):
//   plain         original fetch to https://localhost:<port>/small (upstream CA trusted by the
//                 runtime: NODE_EXTRA_CA_CERTS / DENO_CERT)
//   intercept     patched fetch, same URL (rule host `localhost`), no overrides: as a user has it
//   intercept+ca  the same with AUTHSOME_UPSTREAM_CA set (the interceptor's own dispatcher/client)
//   intercept+resolve  patched fetch to https://api.bench.test:<port>/small, sent to 127.0.0.1
//                 by AUTHSOME_UPSTREAM_RESOLVE, as the tests do (on Deno through its loopback
//                 SOCKS relay)
// Sequential: one fetch at a time; concurrent: 16 fetches in flight. µs per fetch per round
// (round wall time / fetches), median over rounds; results go to docs/benchmarks.md.
//   node bench/intercept.mjs [--quick] [--no-build] [--node-only|--deno-only]
import { spawn, spawnSync } from "node:child_process";
import { performance } from "node:perf_hooks";

const argv = (globalThis.Deno?.args ?? process.argv.slice(2));
if (argv.includes("--worker")) await worker(JSON.parse(argv[argv.indexOf("--worker") + 1]));
else await main();

async function worker({ port, host, rounds, sequential, concurrent, concurrency, authorization }) {
  const { intercept } = await import(new URL("../dist/intercept.mjs", import.meta.url).href);
  const original = globalThis.fetch;
  // First with the overrides the tests use (read at intercept() time) ...
  const restoreOverrides = await intercept();
  const withOverrides = globalThis.fetch;
  // ... then, beside it, a second interceptor as a user gets it (no overrides: the runtime's own
  // fetch and trust store). Two at once is refused by design; the flag is cleared for the bench.
  globalThis.fetch = original;
  globalThis.__authsomeIntercepted = false;
  delete process.env.AUTHSOME_UPSTREAM_CA;
  delete process.env.AUTHSOME_UPSTREAM_RESOLVE;
  const restore = await intercept();
  const patched = globalThis.fetch;
  const modes = [
    { name: "plain", fetch: original, url: `https://localhost:${port}/small`, init: { headers: { authorization } } },
    { name: "intercept", fetch: patched, url: `https://localhost:${port}/small`, init: {} },
    { name: "intercept+ca", fetch: withOverrides, url: `https://localhost:${port}/small`, init: {} },
    { name: "intercept+resolve", fetch: withOverrides, url: `https://${host}:${port}/small`, init: {} },
  ];
  const once = async (mode) => {
    const res = await mode.fetch(mode.url, mode.init);
    const text = await res.text();
    if (res.status !== 200 || !JSON.parse(text).injected) throw new Error(`${mode.name}: ${res.status} ${text}`);
  };
  const runSequential = async (mode, n) => {
    const t = performance.now();
    for (let i = 0; i < n; i++) await once(mode);
    return ((performance.now() - t) * 1000) / n;
  };
  const runConcurrent = async (mode, n) => {
    let left = n;
    const t = performance.now();
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (left-- > 0) await once(mode);
    }));
    return ((performance.now() - t) * 1000) / n;
  };
  // Warm-up: connections open, JIT warm, the interceptor's first lookups done.
  for (const mode of modes) {
    await runSequential(mode, 50);
    await runConcurrent(mode, 200);
  }
  const results = Object.fromEntries(modes.map((m) => [m.name, { sequential: [], concurrent: [] }]));
  for (let r = 0; r < rounds; r++) {
    // Interleaved, and the order rotated each round so no mode always runs first.
    const order = modes.map((_, i) => modes[(i + r) % modes.length]);
    for (const mode of order) results[mode.name].sequential.push(await runSequential(mode, sequential));
    for (const mode of order) results[mode.name].concurrent.push(await runConcurrent(mode, concurrent));
  }
  restore();
  restoreOverrides();
  console.log(JSON.stringify(results));
  // Give the audit batch restore() flushed a moment, then leave (keep-alive sockets hold the loop).
  setTimeout(() => (globalThis.Deno ? globalThis.Deno.exit(0) : process.exit(0)), 300);
}

async function main() {
  const { mkdirSync, mkdtempSync, rmSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const { HOST, AUTHORIZATION, setupHome, startUpstream, stopAll, waitForQuiet, watchdog } = await import("./procs.mjs");
  const { machineFacts, writeSection } = await import("./report.mjs");
  const quick = argv.includes("--quick");
  const runtimes = argv.includes("--node-only") ? ["node"] : argv.includes("--deno-only") ? ["deno"] : ["node", "deno"];
  watchdog((quick ? 2 : 5) * 60_000, "bench/intercept");
  if (!argv.includes("--no-build")) {
    const build = spawnSync(process.execPath, ["scripts/build.mjs"], { stdio: "inherit" });
    if (build.status !== 0) process.exit(1);
  }
  const config = { host: HOST, authorization: AUTHORIZATION, rounds: quick ? 5 : 15, sequential: quick ? 100 : 300, concurrent: quick ? 400 : 1200, concurrency: 16 };
  const dir = mkdtempSync(join(tmpdir(), "authsome-bench-intercept-"));
  const byRuntime = {};
  try {
    const upstream = await startUpstream(dir, ["localhost", HOST]);
    const home = join(dir, "home");
    mkdirSync(home);
    const env = {
      ...setupHome(home, ["localhost", HOST]),
      AUTHSOME_UPSTREAM_CA: upstream.caFile,
      AUTHSOME_UPSTREAM_RESOLVE: `${HOST}:${upstream.port}:127.0.0.1`,
      NODE_EXTRA_CA_CERTS: upstream.caFile,
      DENO_CERT: upstream.caFile,
    };
    const payload = JSON.stringify({ ...config, port: upstream.port });
    for (const runtime of runtimes) {
      // Shared machines: wait (within a budget) for other work to quiet down first.
      config.busy = Math.max(config.busy ?? 0, await waitForQuiet(quick ? 10_000 : 30_000));
      const [command, args] = runtime === "deno" ? ["node_modules/.bin/deno", ["run", "-A", "bench/intercept.mjs", "--worker", payload]] : [process.execPath, ["bench/intercept.mjs", "--worker", payload]];
      byRuntime[runtime] = await new Promise((resolve, reject) => {
        const child = spawn(command, args, { env, stdio: ["ignore", "pipe", "inherit"] });
        let out = "";
        child.stdout.on("data", (d) => (out += d));
        child.on("exit", (code) => (code === 0 ? resolve(JSON.parse(out.trim().split("\n").at(-1))) : reject(new Error(`${runtime} worker exited ${code}`))));
      });
      byRuntime[runtime].version = runtime === "deno" ? `Deno ${spawnSync(command, ["--version"], { encoding: "utf8" }).stdout.split(" ")[1]}` : `Node ${process.version}`;
      const m = summarise(byRuntime[runtime]);
      for (const kind of ["sequential", "concurrent"]) console.error(`${runtime} ${kind}: plain ${m.plain[kind].toFixed(0)} us, intercept ${m.intercept[kind].toFixed(0)} us, +ca ${m["intercept+ca"][kind].toFixed(0)} us, +resolve ${m["intercept+resolve"][kind].toFixed(0)} us per fetch`);
    }
  } finally {
    await stopAll(1000);
    rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
  }
  report(byRuntime, config, machineFacts, writeSection, quick);
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

// Per mode and kind: the median µs per fetch, and the added µs as the median over rounds of the
// difference to `plain` in the same round (rounds are paired: background load hits both).
function summarise(results) {
  const out = {};
  for (const [mode, r] of Object.entries(results)) {
    if (mode === "version") continue;
    out[mode] = {};
    for (const kind of ["sequential", "concurrent"]) {
      out[mode][kind] = median(r[kind]);
      out[mode][`${kind}Added`] = median(r[kind].map((us, i) => us - results.plain[kind][i]));
    }
  }
  return out;
}

function report(byRuntime, config, machineFacts, writeSection, quick) {
  const rows = [];
  const readings = [];
  for (const [runtime, results] of Object.entries(byRuntime)) {
    const m = summarise(results);
    for (const kind of ["sequential", "concurrent"]) {
      const plain = m.plain[kind];
      const cell = (mode) => `${m[mode][kind].toFixed(0)} | +${m[mode][`${kind}Added`].toFixed(0)} (${(m[mode][kind] / plain).toFixed(2)}x)`;
      rows.push(`| ${results.version} | ${kind === "sequential" ? "1 (sequential)" : `${config.concurrency} concurrent`} | ${plain.toFixed(0)} | ${cell("intercept")} | ${cell("intercept+ca")} | ${cell("intercept+resolve")} |`);
    }
    readings.push(`${runtime === "deno" ? "Deno" : "Node"} +${m.intercept.sequentialAdded.toFixed(0)} µs one at a time, +${m.intercept.concurrentAdded.toFixed(0)} µs per fetch with 16 in flight`);
  }
  const flags = argv.filter((a) => a !== "--no-build").join(" ");
  const text = [
    `Command: \`node bench/intercept.mjs${flags ? ` ${flags}` : ""}\` (${machineFacts()}; ${config.rounds} interleaved rounds of ${config.sequential} sequential and ${config.concurrent} concurrent fetches per mode; other work on the cores before a runtime's run: at most ${((config.busy ?? 0) * 100).toFixed(0)}%).`,
    "",
    "One worker process per runtime imports the built `dist/intercept.mjs` (what `authsome-broker/intercept` exports) and fetches `/small` (a short JSON answer) from a local HTTPS upstream in its own process (bench/upstream.mjs, keep-alive). `plain` is the original `globalThis.fetch`, sending the header itself; `intercept` is the fetch `intercept()` patched in, a provider plugin declaring the host and logged in with an API key: the key injected, the response scrubbed, the use audited (in batches). `intercept` goes to the same `https://localhost:<port>` with no override, as a user has it (the runtime's own fetch and trust store); `intercept+ca` is another interceptor in the same process, made with `AUTHSOME_UPSTREAM_CA` (and `_RESOLVE`) set (requests go through the interceptor's own undici \`Agent\` on Node, a \`Deno.HttpClient\` on Deno); `intercept+resolve` goes to `https://api.bench.test:<port>`, sent to 127.0.0.1 by `AUTHSOME_UPSTREAM_RESOLVE` as the tests do (on Deno through the interceptor's loopback SOCKS relay). Both overrides are test-only paths. Modes interleaved within each round, their order rotated; µs per fetch is a round's wall time over its fetches (with 16 in flight: the inverse of throughput), median over rounds; added µs is the median over rounds of the difference to `plain` in the same round, the ratio that of the medians.",
    "",
    "| runtime | fetches in flight | plain µs/fetch | intercept µs/fetch | added µs (ratio) | intercept+ca µs/fetch | added µs (ratio) | intercept+resolve µs/fetch | added µs (ratio) |",
    "|---|---|---|---|---|---|---|---|---|",
    ...rows,
    "",
    `Reading: the interceptor adds ${readings.join("; ")}, against a real API's tens to hundreds of milliseconds per answer.`,
  ].join("\n");
  console.log(text);
  if (!quick && Object.keys(byRuntime).length === 2) writeSection("intercept", text);
}
