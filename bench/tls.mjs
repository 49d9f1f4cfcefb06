// bench/tls: what the first request to a host costs when the proxy intercepts it. Leaf minting
// alone (the proxy's CA code, in this process), then whole first requests through `authsome run`
// to many hosts, each on a new client connection: cold (a host the proxy has not seen: leaf
// minted, new upstream connection) and warm (the same hosts again: leaf cached, upstream
// connection pooled), beside a new direct TLS connection and mitmproxy doing the same job.
//   node --import tsx bench/tls.mjs [--quick] [--no-build]
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent, ProxyAgent } from "undici";
import { createCertificateAuthority, createMemoryCaStore } from "../src/proxy/ca.ts";
import { setupHome, startAuthsomeRun, startMitmdump, startUpstream, stopAll, watchdog, waitForQuiet } from "./procs.mjs";
import { machineFacts, writeSection } from "./report.mjs";

const argv = process.argv.slice(2);
const quick = argv.includes("--quick");
const HOSTS = quick ? 50 : 200;
const DOMAIN = "tls.bench.test";
const names = Array.from({ length: HOSTS }, (_, i) => `h${i}.${DOMAIN}`);
watchdog((quick ? 3 : 6) * 60_000, "bench/tls");

const ms = (start) => Number(process.hrtime.bigint() - start) / 1e6;
const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)], p90: s[Math.floor(s.length * 0.9)], n: s.length };
};

// 1. Minting alone: a fresh CA, one leaf per new host name, one after the other.
const ca = await createCertificateAuthority(createMemoryCaStore());
const minting = [];
for (let i = 0; i < HOSTS + 1; i++) {
  const start = process.hrtime.bigint();
  await ca.leafFor(`m${i}.${DOMAIN}`);
  minting.push(ms(start));
}
const firstMint = minting.shift();
const mint = stats(minting);
console.error(`leaf minting: median ${mint.median.toFixed(2)} ms, p90 ${mint.p90.toFixed(2)} ms (first ${firstMint.toFixed(1)} ms)`);

if (!argv.includes("--no-build")) {
  const build = spawnSync(process.execPath, ["scripts/build.mjs"], { stdio: "inherit" });
  if (build.status !== 0) process.exit(1);
}

// 2. First requests through the proxies, each on a new client connection.
const dir = mkdtempSync(join(tmpdir(), "authsome-bench-tls-"));
const results = {};
let mitmVersion;
try {
  const upstream = await startUpstream(dir, names);
  const home = join(dir, "home");
  mkdirSync(home);
  const resolve = names.map((name) => `${name}:${upstream.port}:127.0.0.1`).join(",");
  const env = { ...setupHome(home, [`*.${DOMAIN}`]), AUTHSOME_UPSTREAM_RESOLVE: resolve, AUTHSOME_UPSTREAM_CA: upstream.caFile };
  const run = await startAuthsomeRun(env);
  const targets = [
    { name: "direct", origin: () => `https://127.0.0.1:${upstream.port}`, dispatcher: (name) => new Agent({ connect: { ca: upstream.caPem, servername: name } }) },
    { name: "authsome", origin: (name) => `https://${name}:${upstream.port}`, dispatcher: () => new ProxyAgent({ uri: run.proxyUrl, requestTls: { ca: run.caPem } }) },
  ];
  const mitm = await startMitmdump(dir, upstream.caFile, `*.${DOMAIN}`);
  if (mitm !== null) {
    mitmVersion = mitm.version;
    targets.push({ name: "mitmproxy", origin: (name) => `https://${name}:${upstream.port}`, dispatcher: () => new ProxyAgent({ uri: mitm.proxyUrl, requestTls: { ca: mitm.caPem } }) });
  }
  const once = async (target, name) => {
    const dispatcher = target.dispatcher(name);
    try {
      const start = process.hrtime.bigint();
      const { statusCode, body } = await dispatcher.request({ origin: target.origin(name), path: "/small", method: "GET" });
      const text = await body.text();
      const took = ms(start);
      if (statusCode !== 200) throw new Error(`${target.name} ${name}: status ${statusCode}`);
      if (target.name !== "direct" && !JSON.parse(text).injected) throw new Error(`${target.name} ${name}: no credential injected`);
      return took;
    } finally {
      await dispatcher.close();
    }
  };
  // Warm-up on a host outside the measured set (JIT, first CONNECT, the proxies' own start-up).
  for (const target of targets) for (let i = 0; i < 5; i++) await once(target, names[0]);
  await waitForQuiet(quick ? 20_000 : 60_000);
  for (const pass of ["cold", "warm"]) {
    for (const target of targets) results[`${target.name} ${pass}`] = [];
    // names[0] was used by the warm-up: it is warm already.
    for (const name of names.slice(1)) for (const target of targets) results[`${target.name} ${pass}`].push(await once(target, name));
  }
} finally {
  await stopAll();
  rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
}

const s = Object.fromEntries(Object.entries(results).map(([k, v]) => [k, stats(v)]));
const row = (target) => {
  const cold = s[`${target} cold`];
  const warm = s[`${target} warm`];
  if (cold === undefined) return null;
  return `| ${target} | ${cold.median.toFixed(2)} | ${cold.p90.toFixed(2)} | ${warm.median.toFixed(2)} | ${warm.p90.toFixed(2)} | ${(cold.median - warm.median).toFixed(2)} |`;
};
const a = s["authsome cold"];
const aw = s["authsome warm"];
const m = s["mitmproxy cold"];
const text = [
  `Command: \`node --import tsx bench/tls.mjs${quick ? " --quick" : ""}\` (${machineFacts()}; mitmproxy ${mitmVersion ?? "not installed"}).`,
  "",
  `Leaf minting alone (ECDSA P-256, one key pair shared by all leaves, signed by the home CA; DER written by src/proxy/x509.ts, signature by WebCrypto): median **${mint.median.toFixed(2)} ms**, p90 ${mint.p90.toFixed(2)} ms over ${mint.n} new host names (the very first, with module warm-up: ${firstMint.toFixed(1)} ms). Target: <= 5 ms, ${mint.median <= 5 ? "met" : "**missed**"}.`,
  "",
  `First request to a host on a new client connection (CONNECT, TLS handshake, one small GET), ${a?.n ?? 0} host names (\`h<i>.${DOMAIN}\`, declared by one \`*.${DOMAIN}\` rule), each once cold then once warm; ms:`,
  "",
  "| target | cold median | cold p90 | warm median | warm p90 | cold - warm |",
  "|---|---|---|---|---|---|",
  ...["direct", "authsome", "mitmproxy"].map(row).filter(Boolean),
  "",
  "Cold: a host the proxy has not seen (leaf minted, a new TLS connection to the upstream). Warm: the same host again on a new client connection (leaf cached, upstream connection reused). `direct` is a new TLS connection to the upstream with no proxy.",
  "",
  `Reading: the first request an agent makes to a new API host through authsome takes ${a?.median.toFixed(1) ?? "?"} ms instead of ${aw?.median.toFixed(1) ?? "?"} ms for a host the proxy already knows${m ? ` (mitmproxy: ${m.median.toFixed(1)} ms)` : ""}; the leaf certificate itself is ${mint.median.toFixed(1)} ms of that, minted while the agent is still sending its TLS hello. It is paid once per host per run: leaves are cached for the run (500 hosts, 30-day leaves).`,
].join("\n");
console.log(text);
writeSection("tls", text);
