// bench/package: what a consumer of the published package pays, measured from the packed tarball
// installed into a fresh project (not the clone): tarball and unpacked size, the installed
// footprint and package count, install time (offline, from npm's cache), and the cold start of
// `authsome get openai --field status` against bare `node -e 0`, interleaved.
//   node bench/package.mjs [runs] [--no-build]
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { machineFacts, writeSection } from "./report.mjs";

const runs = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? 30);
const root = mkdtempSync(join(tmpdir(), "authsome-bench-package-"));
const GOALS = { ratio: 1.5, unpackedMB: 1.5, footprintMB: 15, packages: 20 };
// Where the start-up time goes, from `node --cpu-prof` on the same machine (2026-12-01); kept
// here so the section says why the goal is missed, not only that it is.
const PROFILE = "Where the time goes (same machine, 2026-12-02; laps timed inside one process on the built package): bare `node -e 0` is ~47 ms; `authsome --version` (dist/cli.mjs and its static chunks: argument parsing, valibot through core/context) ~60 ms; loading and evaluating the ~24 further chunks on the `get` path ~18-20 ms (importing exactly those files up front; 25 empty modules cost only ~4 ms, so this is their code being compiled and run: valibot schemas, unstorage, the plugin schema, the /v1 table); then the command itself ~14 ms cold against ~4 ms when repeated in the same process: the audit append 5-7 ms (lock file, append, fdatasync, head rename), loading and validating the bundled plugin 2-4 ms, master key and WebCrypto start-up ~1.3 ms, data key unwrap ~2 ms, default pointer and record ~1 ms. Synchronous reads in the fs driver and of master.key cut the vault's part from ~6 to ~3.5 ms in-process, which is within the noise of the process-level median; avoiding the ESM facade of node:fs (which loads the streams internals) measured nothing. Each record is now read once per command (the default pointer was read twice). Reaching 1.5x (~71 ms) needs ~15 ms more: fewer and lighter chunks on the `get` path (scripts/build.mjs, src/cli), a cheaper cold audit append, and not validating the bundled plugin at every start.";

function must(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { encoding: "utf8", ...options });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed: ${r.stderr}`);
  return r.stdout;
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mb = (bytes) => (bytes / 1e6).toFixed(2);

function duBytes(dir) {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += duBytes(path);
    else if (entry.isFile()) total += statSync(path).size;
  }
  return total;
}

/** Installs the tarball into a fresh project; returns the project and the wall time. */
function install(tarball, name) {
  const dir = join(root, name);
  mkdirSync(dir);
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "bench-consumer", version: "1.0.0", private: true, type: "module" }));
  const start = process.hrtime.bigint();
  must("npm", ["install", "--offline", "--no-audit", "--no-fund", tarball], { cwd: dir });
  return { dir, ms: Number(process.hrtime.bigint() - start) / 1e6 };
}

if (!process.argv.includes("--no-build")) must(process.execPath, ["scripts/build.mjs"]);
const [packed] = JSON.parse(must("npm", ["pack", "--json", "--pack-destination", root]));
const tarball = join(root, packed.filename);
// A first install fills npm's cache with the registry document of ioredis if it lacks it.
spawnSync("npm", ["cache", "add", "ioredis@5"], { encoding: "utf8" });
const installs = [0, 1, 2].map((i) => install(tarball, `consumer-${i}`));
const { dir } = installs[0];
const modules = join(dir, "node_modules");
const footprint = duBytes(modules);
const packages = must("npm", ["ls", "--all", "--parseable"], { cwd: dir }).trim().split("\n").length - 1;

const home = join(root, "home");
const env = { ...process.env, AUTHSOME_HOME: home, NO_COLOR: "1" };
const bin = join(modules, "authsome-broker/bin/authsome.mjs");
must(process.execPath, [bin, "login", "openai"], { env, input: "sk-bench-0000000000000000000000" });
function time(args) {
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { env, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`node ${args.join(" ")}: ${r.stderr}`);
  return Number(process.hrtime.bigint() - start) / 1e6;
}
const get = [bin, "get", "openai", "--field", "status"];
for (let i = 0; i < 3; i++) time(get); // warm the page cache
const bare = [];
const cli = [];
for (let i = 0; i < runs; i++) {
  bare.push(time(["-e", "0"]));
  cli.push(time(get));
}
rmSync(root, { recursive: true, force: true });

const ratio = median(cli) / median(bare);
const installMs = median(installs.map((i) => i.ms));
const verdict = (ok) => (ok ? "met" : "**missed**");
const text = [
  `Command: \`node bench/package.mjs ${runs}\` (the packed tarball installed offline into fresh projects; ${runs} interleaved start-up runs; ${machineFacts()}).`,
  "",
  "| measure | value | goal | |",
  "|---|---|---|---|",
  `| \`authsome get openai --field status\` (median) vs \`node -e 0\` | ${median(cli).toFixed(1)} ms vs ${median(bare).toFixed(1)} ms: **${ratio.toFixed(2)}x** | <= ${GOALS.ratio}x | ${verdict(ratio <= GOALS.ratio)} |`,
  `| tarball | ${mb(packed.size)} MB, ${packed.entryCount} files | - | |`,
  `| unpacked package | ${mb(packed.unpackedSize)} MB | <= ${GOALS.unpackedMB} MB | ${verdict(packed.unpackedSize / 1e6 <= GOALS.unpackedMB)} |`,
  `| consumer's node_modules | ${mb(footprint)} MB, ${packages} packages | <= ${GOALS.footprintMB} MB, <= ${GOALS.packages} packages | ${verdict(footprint / 1e6 <= GOALS.footprintMB && packages <= GOALS.packages)} |`,
  `| consumer install time (offline, from cache; median of 3) | ${(installMs / 1000).toFixed(2)} s | - | |`,
  "",
  `Reading: a consumer installs ${packages} packages (authsome-broker and ioredis with its dependencies), ${mb(footprint)} MB in all; everything else the code needs is inside the package's bundle. A credential lookup from a shell script costs ${(median(cli) - median(bare)).toFixed(0)} ms more than starting Node at all.`,
  "",
  PROFILE,
].join("\n");
console.log(text);
writeSection("package", text);
if (ratio > GOALS.ratio) console.error(`package: cold start ${ratio.toFixed(2)}x is over the ${GOALS.ratio}x goal`);
