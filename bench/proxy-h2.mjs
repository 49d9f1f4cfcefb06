// The HTTP/2 and gRPC cells of bench/proxy.mjs (issue 16): the same `authsome run` proxy as the
// HTTP/1.1 cells, against an h2 + gRPC upstream (bench/h2-upstream.mjs) on its own process.
// h2: one connection (one CONNECT tunnel through the proxy), 16 or 100 streams at a time;
// gRPC: one grpc-js channel, unary calls 16 at a time. `direct` sends the credential itself.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { h2Socket, runGrpcLoad, runH2Load } from "./h2-load.mjs";
import { AUTHORIZATION, HOST, cpuMsOf, spawnLine } from "./procs.mjs";

/** Starts bench/h2-upstream.mjs; its CA goes to `<dir>/h2-upstream-ca.pem`. */
export async function startH2Upstream(dir) {
  const caFile = join(dir, "h2-upstream-ca.pem");
  const { child, line } = await spawnLine(process.execPath, ["--import", "tsx", "bench/h2-upstream.mjs", caFile, AUTHORIZATION, HOST]);
  const { port, grpcPort } = JSON.parse(line);
  return { child, port, grpcPort, caFile, caPem: readFileSync(caFile, "utf8") };
}

const SMALL_BYTES = Buffer.byteLength(JSON.stringify({ ok: true, injected: true }));
const CELLS = [
  { kind: "h2", body: "small", path: "/small", bytes: SMALL_BYTES, concurrency: 16, requests: 8000, warmup: 20 },
  { kind: "h2", body: "small", path: "/small", bytes: SMALL_BYTES, concurrency: 100, requests: 10000, warmup: 5 },
  { kind: "h2", body: "1 MiB", path: "/big", bytes: 1 << 20, concurrency: 16, requests: 400, warmup: 2 },
  { kind: "h2", body: "1 MiB", path: "/big", bytes: 1 << 20, concurrency: 100, requests: 500, warmup: 1 },
  // A client that raises its windows as curl and Go do (1 MiB per stream, 16 MiB per session).
  { kind: "h2", body: "1 MiB, big window", path: "/big", bytes: 1 << 20, concurrency: 16, requests: 400, warmup: 2, window: 1 << 20 },
  { kind: "grpc", body: "unary", concurrency: 16, requests: 4000, warmup: 20 },
];

/**
 * The warm-up phase, before any cell, for each target alike (direct: the client and upstream;
 * authsome: the proxy too): small streams 16 at a time and gRPC calls, untimed and not counted.
 * The first few thousand streams of a fresh process cost two to four times the later ones (JIT;
 * through the proxy 390, 260, 170, 150, 90 us per stream in successive thousands, one run on a
 * loaded machine), and each cell's own warm-up (a few hundred) left most of that in the first
 * cells' numbers: the client's and upstream's in `direct`, the proxy's in `authsome`.
 */
const WARM = { streams: 6000, calls: 1500 };

async function warmUp(h2up, via, scale, check) {
  const headers = via === undefined ? { authorization: AUTHORIZATION } : {};
  const ca = via?.caPem ?? h2up.caPem;
  const streams = Math.max(100, Math.round(WARM.streams * scale));
  await runH2Load({ socket: await h2Socket({ host: HOST, port: h2up.port, ca, proxyUrl: via?.proxyUrl }), origin: `https://${HOST}:${h2up.port}`, path: "/small", headers, concurrency: 16, requests: streams, warmup: 0, bytes: SMALL_BYTES, check });
  await runGrpcLoad({ host: HOST, port: h2up.grpcPort, ca, proxyUrl: via?.proxyUrl, headers, concurrency: 16, requests: Math.max(100, Math.round(WARM.calls * scale)), warmup: 0, check });
}

/** Runs every cell against `direct` and the `authsome` run; returns one row per cell. */
export async function runH2Cells(h2up, run, scale) {
  const rows = [];
  const check = (text) => {
    if (!JSON.parse(text).injected) throw new Error("the upstream did not get the credential");
  };
  for (const via of [undefined, run]) await warmUp(h2up, via, scale, check);
  for (const cell of CELLS) {
    const row = { ...cell, by: {} };
    for (const [name, via] of [["direct", undefined], ["authsome", run]]) {
      const requests = Math.max(100, Math.round(cell.requests * scale));
      const warmup = Math.max(1, Math.round(cell.warmup * scale));
      const headers = via === undefined ? { authorization: AUTHORIZATION } : {};
      const pid = via?.pid ?? h2up.child.pid;
      const cpu = cpuMsOf(pid);
      const client = process.cpuUsage();
      const r = cell.kind === "grpc"
        ? await runGrpcLoad({ host: HOST, port: h2up.grpcPort, ca: via?.caPem ?? h2up.caPem, proxyUrl: via?.proxyUrl, headers, concurrency: cell.concurrency, requests, warmup, check })
        : await runH2Load({ socket: await h2Socket({ host: HOST, port: h2up.port, ca: via?.caPem ?? h2up.caPem, proxyUrl: via?.proxyUrl }), origin: `https://${HOST}:${h2up.port}`, path: cell.path, headers, concurrency: cell.concurrency, requests, warmup, bytes: cell.bytes, window: cell.window, ...(cell.bytes === SMALL_BYTES ? { check } : {}) });
      // CPU per request of the proxy (of the upstream for `direct`), warm-up included.
      const total = requests + warmup * cell.concurrency;
      r.serverUs = ((cpuMsOf(pid) - cpu) * 1000) / total;
      const used = process.cpuUsage(client);
      r.clientUs = (used.user + used.system) / total;
      row.by[name] = r;
      console.error(`${cell.kind.padEnd(4)} ${cell.body.padEnd(6)} c=${String(cell.concurrency).padEnd(3)} ${name.padEnd(9)} ${r.rps.toFixed(0).padStart(6)} req/s  ${cell.bytes > SMALL_BYTES ? `${r.mbps.toFixed(0)} MB/s  ` : ""}p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms  ${name === "direct" ? "upstream" : "proxy"} ${r.serverUs.toFixed(0)} us/req`);
    }
    rows.push(row);
  }
  return rows;
}

/** The HTTP/2 and gRPC part of the `proxy` section of docs/benchmarks.md. */
export function h2Report(rows) {
  const ratio = (row) => (row.by.authsome.rps / row.by.direct.rps).toFixed(2);
  const table = [
    "| protocol | body | streams at once | direct req/s | authsome req/s | authsome/direct | direct MB/s | authsome MB/s | authsome p50 / p99 ms | upstream CPU us/req (direct) | proxy CPU us/req | client CPU us/req (direct / authsome) | authsome/direct bound from CPU |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ...rows.map((row) => {
      const { direct, authsome } = row.by;
      const mb = (r) => (row.kind === "h2" && row.bytes > SMALL_BYTES ? r.mbps.toFixed(0) : "-");
      const bound = (direct.clientUs + direct.serverUs) / (authsome.clientUs + authsome.serverUs + direct.serverUs);
      return `| ${row.kind === "grpc" ? "gRPC" : "HTTP/2"} | ${row.body} | ${row.concurrency} | ${direct.rps.toFixed(0)} | ${authsome.rps.toFixed(0)} | ${ratio(row)}x | ${mb(direct)} | ${mb(authsome)} | ${authsome.p50.toFixed(2)} / ${authsome.p99.toFixed(2)} | ${direct.serverUs.toFixed(0)} | ${authsome.serverUs.toFixed(0)} | ${direct.clientUs.toFixed(0)} / ${authsome.clientUs.toFixed(0)} | ${bound.toFixed(2)}x |`;
    }),
  ];
  const h2 = rows.filter((r) => r.kind === "h2");
  const met = h2.every((r) => r.by.authsome.rps >= 0.5 * r.by.direct.rps);
  const grpc = rows.find((r) => r.kind === "grpc");
  return [
    "### HTTP/2 and gRPC (issue 16)",
    "",
    "The same `authsome run` proxy, against a node:http2 + grpc-js upstream on its own process (bench/h2-upstream.mjs). First a warm-up phase for each target alike (6,000 small streams and 1,500 gRPC calls, untimed and not counted). HTTP/2: one connection (one CONNECT tunnel through the proxy) carrying that many streams at once, back to back (bench/h2-load.mjs); the proxy forwards them as streams of one reused upstream session. gRPC: one grpc-js channel (through the proxy: grpc-js takes it from `grpc_proxy`, as under `authsome run`), unary calls 16 at a time. Every proxied stream gets the key injected and audited and its answer scrubbed.",
    "",
    ...table,
    "",
    `| target (issue 16) | measured | |`,
    "|---|---|---|",
    `| HTTP/2 through the proxy >= 0.5x direct at 16 and 100 streams on one connection | ${h2.map((r) => `${r.body} c${r.concurrency} ${ratio(r)}x`).join(", ")} | ${met ? "met" : "**missed**"} |`,
    `| gRPC unary calls/s | ${grpc ? `${grpc.by.authsome.rps.toFixed(0)} through authsome, ${grpc.by.direct.rps.toFixed(0)} direct (${ratio(grpc)}x)` : "-"} | measured |`,
    "",
    "Reading: on two shared cores the ratio is bound by CPU per stream (last column: (client + upstream) / (client + proxy + upstream)). Each proxied stream is node:http2 work on two sessions, the agent's and the upstream's, plus the egress pipeline, the audit entry and the scrubber; CPU profiles of the proxy (bench/h2-ab.mjs --profile) put about half in node:http2 and TLS, a fifth in V8's garbage collector, 10-15% in authsome's own code, and the audit log's batched fdatasyncSync on the proxy's thread at 11-20% (src/core/audit.ts). The `big window` row is a client that raises its HTTP/2 windows as curl and Go do; the others keep node:http2's 64 KiB, which paces every byte on both paths.",
  ].join("\n");
}
