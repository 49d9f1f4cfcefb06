// bench/ui: the dashboard's main page (`/ui/`) and one provider's view (`/ui/provider`) with 1,000 connections (issue 15: goal <= 300 ms
// server time, <= 100 KB page weight without images). A home on the default fs store gets
// 1,000 API-key connections (100 each for 10 bundled providers) through the built library; then
// the real `authsome ui` (Node: bin/authsome.mjs on dist/; Deno: src/cli/main.ts) serves it and
// a raw node:http client, signed in through the one-time link, asks for the page again and again.
// Reported per runtime: time to the last byte of the page on loopback (what the server spends:
// listing 1,000 records, rendering, gzip), median and p90 of the rounds after a warm-up; bytes
// on the wire with gzip and without; and what the page loads besides (app.css, app.js). The
// provider view (100 connections of one provider, 50 a page) is measured the same way, identity only.
//   node bench/ui.mjs [--no-build] [--rounds N] [--node-only|--deno-only] [--no-write]
import { spawn, spawnSync } from "node:child_process";
import { request } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { machineFacts, writeSection } from "./report.mjs";

const argv = process.argv.slice(2);
const rounds = Number(argv[argv.indexOf("--rounds") + 1] || 30);
const PROVIDERS = ["openai", "anthropic", "groq", "perplexity", "resend", "brevo", "apollo", "elevenlabs", "cerebras", "deepseek"];
const PER = 100;
const MASTER = Buffer.alloc(32, 11).toString("base64");

function get(port, path, headers) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = request({ host: "127.0.0.1", port, path, headers: { host: `127.0.0.1:${port}`, ...headers } }, (res) => {
      let bytes = 0;
      res.on("data", (d) => (bytes += d.length));
      res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, bytes, ms: performance.now() - started }));
    });
    req.setTimeout(30_000, () => req.destroy(new Error(`no answer to ${path} within 30 s`)));
    req.on("error", reject);
    req.end();
  });
}

async function fillHome(home) {
  const { createAuthService } = await import(new URL("../dist/index.mjs", import.meta.url).href);
  const service = await createAuthService({ home, masterKey: MASTER });
  const started = performance.now();
  for (const provider of PROVIDERS) {
    const plugin = await service.inspect(provider);
    const pattern = plugin.definition.apiKey?.pattern;
    for (let i = 0; i < PER; i += 1) {
      // A key each provider's pattern accepts (a prefix it requires, then enough characters).
      const prefix = pattern === undefined ? "" : (/\^([A-Za-z0-9_-]+)/.exec(pattern)?.[1] ?? "");
      await service.login(provider, { connection: `c${String(i).padStart(3, "0")}`, apiKey: `${prefix}bench${"x".repeat(40)}${i}` });
    }
  }
  await service.close();
  return performance.now() - started;
}

function startUi(command, args, env) {
  const child = spawn(command, [...args, "ui", "--no-browser", "--json"], { env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stderr.on("data", (d) => (err += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no link within 60 s: ${err}`)), 60_000);
    child.stdout.on("data", (d) => {
      out += d;
      const url = /"url": "([^"]+)"/.exec(out)?.[1];
      if (url !== undefined) {
        clearTimeout(timer);
        resolve({ child, link: new URL(url) });
      }
    });
    child.on("exit", (code) => reject(new Error(`authsome ui exited ${code}: ${err}`)));
  });
}

const quantile = (values, q) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(q * values.length))];

async function measure(label, command, args, env) {
  const { child, link } = await startUi(command, args, env);
  try {
    const port = Number(link.port);
    const signIn = await get(port, link.pathname, {});
    const cookie = String(signIn.headers["set-cookie"]?.[0] ?? "").split(";")[0];
    const page = (encoding) => get(port, "/ui/", { cookie, ...(encoding ? { "accept-encoding": "gzip" } : {}) });
    const first = await page(true);
    if (first.status !== 200) throw new Error(`${label}: /ui/ answered ${first.status}`);
    for (let i = 0; i < 3; i += 1) await page(true);
    const provider = () => get(port, `/ui/provider?provider=${PROVIDERS[0]}`, { cookie });
    if ((await provider()).status !== 200) throw new Error(`${label}: /ui/provider answered non-200`);
    const gz = [];
    const plain = [];
    const one = [];
    for (let i = 0; i < rounds; i += 1) {
      gz.push((await page(true)).ms);
      plain.push((await page(false)).ms);
      one.push((await provider()).ms);
    }
    const [gzipped, raw, css, js, view] = [await page(true), await page(false), await get(port, "/ui/app.css", {}), await get(port, "/ui/app.js", {}), await provider()];
    return {
      label,
      first: first.ms,
      gzip: { median: quantile(gz, 0.5), p90: quantile(gz, 0.9), bytes: gzipped.bytes, encoding: gzipped.headers["content-encoding"] ?? "identity" },
      identity: { median: quantile(plain, 0.5), p90: quantile(plain, 0.9), bytes: raw.bytes },
      assets: css.bytes + js.bytes,
      provider: { median: quantile(one, 0.5), p90: quantile(one, 0.9), bytes: view.bytes },
    };
  } finally {
    child.kill("SIGINT");
    await new Promise((resolve) => (child.exitCode !== null ? resolve() : child.on("exit", resolve)));
  }
}

if (!argv.includes("--no-build")) spawnSync(process.execPath, ["scripts/build.mjs"], { stdio: "inherit" });
const home = mkdtempSync(join(tmpdir(), "authsome-bench-ui-"));
try {
  const fillMs = await fillHome(home);
  console.log(`home: ${PROVIDERS.length * PER} connections (${PROVIDERS.length} providers x ${PER}) made in ${(fillMs / 1000).toFixed(1)} s`);
  const env = { ...process.env, AUTHSOME_HOME: home, AUTHSOME_MASTER_KEY: MASTER, AUTHSOME_KEYRING: "0", AUTHSOME_STORAGE: "", AUTHSOME_PROFILE: "", BROWSER: "false" };
  const runs = [];
  if (!argv.includes("--deno-only")) runs.push(await measure("node", process.execPath, ["bin/authsome.mjs"], env));
  if (!argv.includes("--node-only")) runs.push(await measure("deno", "node_modules/.bin/deno", ["run", "-A", "--no-check", "src/cli/main.ts"], env));
  const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
  const lines = [
    `Command: \`node bench/ui.mjs --rounds ${rounds}\` (${PROVIDERS.length * PER} API-key connections, ${PROVIDERS.length} providers x ${PER}, default fs store; the real \`authsome ui\`; a raw node:http client on loopback, signed in through the one-time link, ${rounds} rounds each way after a warm-up; ${machineFacts()}). Goals: <= 300 ms server time, <= 100 KB page weight without images.`,
    "",
    "| runtime | main page: first request | time to last byte, gzip (median / p90) | identity (median / p90) | on the wire, gzip | identity | app.css + app.js | provider view, identity (median / p90) | its size |",
    "|---|---|---|---|---|---|---|---|---|",
    ...runs.map((r) => `| ${r.label} | ${r.first.toFixed(0)} ms | **${r.gzip.median.toFixed(0)} ms** / ${r.gzip.p90.toFixed(0)} ms | ${r.identity.median.toFixed(0)} ms / ${r.identity.p90.toFixed(0)} ms | **${kb(r.gzip.bytes)}** (${r.gzip.encoding}) | **${kb(r.identity.bytes)}** | ${kb(r.assets)} | ${r.provider.median.toFixed(0)} ms / ${r.provider.p90.toFixed(0)} ms | ${kb(r.provider.bytes)} |`),
    "",
    `Reading: the main page shows at most 20 providers a page and, for each, the default and the next connections up to 5, with a link to the provider view (\`/ui/provider?provider=${PROVIDERS[0]}\`: 50 connections a page, previous/next links); its weight is bounded by those two numbers, not by the store (with 1,000 connections: 50 rows). The server still lists every record's metadata (the \`list\` operation the CLI calls; no decryption), so its time still grows with the store, while the page does not; the provider view reads one provider's records (\`inspect\`). Pages over 16 KB are gzipped when the browser accepts it. The first request includes loading the plugin catalogue and the store.`,
  ];
  console.log(lines.join("\n"));
  if (!argv.includes("--no-write")) writeSection("ui", lines.join("\n"));
} finally {
  rmSync(home, { recursive: true, force: true });
}
