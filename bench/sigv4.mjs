// bench/sigv4: what SigV4 signing costs per request in the proxy. One `authsome run` (the built
// CLI) with two providers logged in: `benchco` (an API-key header for api.bench.test) and the
// bundled `aws` (SigV4 for s3.us-east-1.amazonaws.com); both hosts are sent to the same local
// HTTPS upstream (bench/upstream.mjs) by AUTHSOME_UPSTREAM_RESOLVE. The same load goes through
// the same proxy to each host, interleaved round by round:
//   GET   no body: the API key is a cached header; SigV4 signs each request (HMAC chain with the
//         derived key cached, canonical request, SHA-256)
//   PUT   a 4 KiB body with no x-amz-content-sha256: the header provider streams it; SigV4
//         reads it whole and hashes it before signing
// Also the signer alone, in-process (µs per sign() of a GET and of a 4 KiB PUT).
// Results go to docs/benchmarks.md.
//   node bench/sigv4.mjs [--quick] [--no-build]
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ProxyAgent } from "undici";
import { HOST, cli, cpuBusy, setupHome, startAuthsomeRun, startUpstream, stopAll, waitForQuiet, watchdog } from "./procs.mjs";
import { machineFacts, writeSection } from "./report.mjs";

const argv = process.argv.slice(2);
if (argv.includes("--micro")) await micro();
else await main();

async function main() {
  const quick = argv.includes("--quick");
  watchdog((quick ? 3 : 10) * 60_000, "bench/sigv4");
  if (!argv.includes("--no-build") && spawnSync(process.execPath, ["scripts/build.mjs"], { stdio: "inherit" }).status !== 0) process.exit(1);
  const AWS_HOST = "s3.us-east-1.amazonaws.com";
  const dir = mkdtempSync(join(tmpdir(), "authsome-bench-sigv4-"));
  try {
    const upstream = await startUpstream(dir, [HOST, AWS_HOST]);
    mkdirSync(join(dir, "home"));
    const env = setupHome(join(dir, "home"), [HOST]);
    cli(env, ["login", "aws"], JSON.stringify({ access_key_id: "AKIABENCH00000000001", secret_access_key: "benchSecretAccessKey/0123456789+abcdefAB" }));
    Object.assign(env, { AUTHSOME_UPSTREAM_RESOLVE: [HOST, AWS_HOST].map((h) => `${h}:${upstream.port}:127.0.0.1`).join(","), AUTHSOME_UPSTREAM_CA: upstream.caFile });
    const run = await startAuthsomeRun(env);
    const targets = [
      { name: "api-key", origin: `https://${HOST}:${upstream.port}` },
      { name: "sigv4", origin: `https://${AWS_HOST}:${upstream.port}` },
    ];
    const scale = quick ? 0.25 : 1;
    const cells = [
      { method: "GET", concurrency: 1, requests: 2000 * scale },
      { method: "GET", concurrency: 16, requests: 6000 * scale },
      { method: "PUT", concurrency: 1, requests: 1500 * scale },
      { method: "PUT", concurrency: 16, requests: 4000 * scale },
    ];
    const rounds = quick ? 2 : 4;
    const body = Buffer.alloc(4096, 0x62);
    const rows = [];
    // Other work on the cores skews both targets alike but adds noise: wait (bounded) for quiet.
    const busyBefore = await waitForQuiet(quick ? 10_000 : 60_000);
    for (const cell of cells) {
      const by = Object.fromEntries(targets.map((t) => [t.name, []]));
      for (let round = 0; round < rounds; round++) {
        const order = round % 2 === 0 ? targets : [...targets].reverse();
        for (const target of order) by[target.name].push(await load(run, target.origin, cell, body));
      }
      rows.push({ ...cell, by: Object.fromEntries(Object.entries(by).map(([name, list]) => [name, median(list)])) });
    }
    const signer = JSON.parse(spawnSync(process.execPath, ["--import", "tsx", "bench/sigv4.mjs", "--micro"], { encoding: "utf8" }).stdout);
    report(rows, signer, rounds, [busyBefore, await cpuBusy()]);
  } finally {
    await stopAll();
    rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
  }
}

/** One timed load of a cell through the run's proxy: requests/s (after a warm-up). */
async function load(run, origin, cell, body) {
  const dispatcher = new ProxyAgent({ uri: run.proxyUrl, requestTls: { ca: run.caPem } });
  const one = async () => {
    const { statusCode, body: answer } = await dispatcher.request({ origin, path: "/small", method: cell.method, ...(cell.method === "PUT" ? { body, headers: { "content-length": String(body.length) } } : {}) });
    await answer.text();
    if (statusCode !== 200) throw new Error(`${cell.method} ${origin}: ${statusCode}`);
  };
  const workers = (n, each) => Promise.all(Array.from({ length: n }, async () => { for (let i = 0; i < each; i++) await one(); }));
  await workers(cell.concurrency, 20);
  const start = process.hrtime.bigint();
  await workers(cell.concurrency, Math.ceil(cell.requests / cell.concurrency));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  await dispatcher.close();
  return (Math.ceil(cell.requests / cell.concurrency) * cell.concurrency) / seconds;
}

function median(list) {
  return [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];
}

/** The signer alone, in this process (run with tsx): µs per sign(). */
async function micro() {
  const { createSigV4Signer } = await import("../src/core/sigv4.ts");
  const { signer } = createSigV4Signer(undefined, { access_key_id: "AKIABENCH00000000001", secret_access_key: "benchSecretAccessKey/0123456789+abcdefAB" });
  const url = new URL("https://s3.us-east-1.amazonaws.com/bucket/key");
  const headers = ["Host", url.host, "Content-Type", "application/octet-stream", "x-amz-content-sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"];
  const body = new Uint8Array(4096).fill(0x62);
  const time = async (n, request) => {
    for (let i = 0; i < 200; i++) await signer.sign(request);
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) await signer.sign(request);
    return Number(process.hrtime.bigint() - start) / 1e3 / n;
  };
  const get = await time(5000, { method: "GET", url, headers, body: null });
  const put = await time(5000, { method: "PUT", url, headers: headers.slice(0, 4), body });
  console.log(JSON.stringify({ get, put }));
}

function report(rows, signer, rounds, busy) {
  const fmt = (n) => n.toFixed(0);
  const lines = [
    `Machine: ${machineFacts()}. Command: \`node bench/sigv4.mjs\`. ${rounds} rounds per cell, targets interleaved (order reversed every other round), median requests/s. Cores busy with other work: ${busy.map((b) => `${(b * 100).toFixed(0)}%`).join(" before, ")} after.`,
    "",
    "One `authsome run` proxy, one local HTTPS upstream, two hosts routed to it: `api-key` is a provider whose key goes in a header (rendered once, cached), `sigv4` the bundled `aws` provider (each request signed with aws4fetch). GET has no body; PUT sends 4 KiB without `x-amz-content-sha256`, so the proxy reads the body whole and hashes it before signing (an SDK that sends its own hash streams instead).",
    "",
    "| request | clients | api-key req/s | sigv4 req/s | sigv4/api-key | added per request (1/rate) |",
    "|---|---|---|---|---|---|",
    // 1/rate difference: per request, added latency at one client, added time per request at 16.
    ...rows.map((r) => {
      const [a, s] = [r.by["api-key"], r.by.sigv4];
      return `| ${r.method} | ${r.concurrency} | ${fmt(a)} | ${fmt(s)} | ${(s / a).toFixed(2)}x | ${(1e6 / s - 1e6 / a).toFixed(0)} µs |`;
    }),
    "",
    `The signer alone (aws4fetch on Web Crypto, derived key cached, in one Node process): ${signer.get.toFixed(0)} µs per GET, ${signer.put.toFixed(0)} µs per 4 KiB PUT (hash included).`,
    "",
    "Reading: a signed request costs the proxy about the signer's own time, almost all of it Web Crypto (aws4fetch imports the derived key and runs an HMAC and a SHA-256 per request; each `crypto.subtle` call in Node is an asynchronous job). At one client that is added latency; with 16 the proxy's one thread is the limit, so the rate falls by that CPU per request. A body that must be hashed is read before its head leaves (the head cannot be signed earlier), which removes the overlap of head and body at one client; SDKs that send `x-amz-content-sha256` themselves (the AWS SDK for S3 and Bedrock) are streamed and skip that. Against an AWS round trip of tens of milliseconds either is small.",
  ];
  writeSection("sigv4", lines.join("\n"));
  console.log(lines.join("\n"));
}
