// bench/catalogue: what the size of the bundled catalogue costs at start-up. Two packages are
// built from the same sources (SOURCE) and differ only in plugins/, taken from BEFORE and from
// AFTER. Each is packed and installed into a fresh project; `authsome --version`, `authsome
// list` (which loads and validates every bundled plugin) and `authsome get openai --field
// status` (one plugin, one connection) are timed cold, interleaved, on Node and on Deno.
//   node bench/catalogue.mjs [runs] [--source REV] [--before REV] [--after REV]
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { machineFacts, writeSection } from "./report.mjs";

const argv = process.argv.slice(2);
const flag = (name, fallback) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : fallback);
const runs = Number(argv.find((a) => /^\d+$/.test(a)) ?? 30);
// 0450f6e: the last commit with the 27-provider catalogue (issue 13 started after it).
const before = flag("--before", "0450f6e");
const after = flag("--after", "HEAD");
const source = flag("--source", "HEAD");
const root = mkdtempSync(join(tmpdir(), "authsome-bench-catalogue-"));
const repo = process.cwd();
const deno = resolve("node_modules/deno/deno");

function must(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 64 * 1024 * 1024, ...options });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed: ${r.stderr}`);
  return r.stdout;
}
// What the first runs found (same machine, 2026-12-02), kept so the section says where list's
// cost went and what is left.
const LIST_NOTE = "Where `list`'s cost went: with one chunk per plugin (as first written), 127 providers cost `list` 1.33x CPU on Node and 1.36x on Deno, nearly all of it the module loader (resolve, read, compile per file); one catalogue chunk took Node's `list` to 0.95-0.99x. On Deno two reads of the vault per provider (default pointer and connection listing, mostly ENOENT) were a further ~14 ms; `list` now lists the vault's keys once. Since then bundled plugins are no longer validated at load (checked at build time and in test/plugins/bundled-trusted.test.ts; issue 9), and the 27-provider package is built with the same catalogue-module scheme (plugins/ trimmed to those 27): Node's `list` was at 1.01x, Deno's still at 1.17x. Profiled on Deno (strace, then a loop of import() calls): not the catalogue module, which loads and evaluates in 1-2 ms on either runtime (11.9 KB for 27 providers, 52 KB for 128), but `list` calling `import(\"./catalogue.ts\")` once per provider: Deno resolves and loads a dynamic import again on each call, even of an evaluated module (128 calls of one loaded module: ~30 ms on Deno, ~1.5 ms on Node; in the package each call reopened the file). plugins/index.ts now keeps the one import's promise: Deno's `list` measured 0.92x and 1.10x in two runs of this bench and 1.02x and 1.08x in two runs of 25-30 interleaved `list`s alone (the spread is the shared machine: `--version`, which loads no plugin, moved by up to 1.11x), from 1.17x. What is left grows with the catalogue but is small: the module itself and each provider's view; no name index was needed.";
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** The provider names bundled at `rev` (its plugins/index.ts, either form it has had). */
function _namesAt(rev) {
  const index = must("git", ["-C", repo, "show", `${rev}:plugins/index.ts`]);
  return new Set([...index.matchAll(/^\s+"?([a-z0-9-]+)"?: (?:\(\) => import|bundled)\(/gm)].map((m) => m[1]));
}

/**
 * Trims SOURCE's plugins/ to `keep`: the same loading scheme (one lazily imported catalogue
 * module), fewer providers. The older trees' per-file scheme cannot be built by today's build
 * script, which checks the bundled plugins through plugins/catalogue.ts.
 */
function _keepOnly(dir, keep) {
  const drop = (line) => {
    const name = /^import \w+ from "\.\/([a-z0-9-]+)\.ts";$/.exec(line)?.[1] ?? /^\s+"?([a-z0-9-]+)"?: (?:bundled\(|\w+,$)/.exec(line)?.[1] ?? /^\s+([a-z0-9]+),$/.exec(line)?.[1];
    return name !== undefined && !keep.has(name);
  };
  for (const file of ["catalogue.ts", "index.ts"]) {
    const path = join(dir, file);
    writeFileSync(path, readFileSync(path, "utf8").split("\n").filter((line) => !drop(line)).join("\n"));
  }
  for (const file of readdirSync(dir)) if (file !== "catalogue.ts" && file !== "index.ts" && !keep.has(file.replace(/\.ts$/, ""))) rmSync(join(dir, file));
}

/** Source tree of SOURCE, with plugins/ trimmed to those of `pluginsRev`, built, packed and installed. */
function prepare(name, pluginsRev) {
  const src = join(root, `${name}-src`);
  mkdirSync(src);
  must("sh", ["-c", `git -C "${repo}" archive ${source} | tar -x -C "${src}"`]);
  if (pluginsRev !== after) _keepOnly(join(src, "plugins"), _namesAt(pluginsRev));
  symlinkSync(join(repo, "node_modules"), join(src, "node_modules"));
  must(process.execPath, ["scripts/build.mjs"], { cwd: src });
  const [packed] = JSON.parse(must("npm", ["pack", "--json", "--pack-destination", root], { cwd: src }));
  const tarball = join(root, `${name}.tgz`);
  must("mv", [join(root, packed.filename), tarball]);
  const dir = join(root, name);
  mkdirSync(dir);
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: `bench-${name}`, version: "1.0.0", private: true, type: "module" }));
  must("npm", ["install", "--offline", "--no-audit", "--no-fund", tarball], { cwd: dir });
  const plugins = readdirSync(join(src, "plugins")).filter((f) => f.endsWith(".ts") && f !== "index.ts" && f !== "catalogue.ts").length;
  const variant = { name, plugins, bin: join(dir, "node_modules/authsome-broker/bin/authsome.mjs"), home: join(root, `${name}-home`) };
  must(process.execPath, [variant.bin, "login", "openai"], { env: envOf(variant), input: "sk-bench-0000000000000000000000" });
  return variant;
}

// A child's own CPU time (user + system, from wait4) as well as wall time: on a shared, loaded
// machine the wall clock mostly measures the other processes.
const WAIT4 = "import os,sys,time\nt=time.perf_counter()\npid=os.fork()\nif pid==0:\n os.execvp(sys.argv[1],sys.argv[1:])\n_,st,ru=os.wait4(pid,0)\nprint((time.perf_counter()-t)*1e3,(ru.ru_utime+ru.ru_stime)*1e3,os.waitstatus_to_exitcode(st))";

const envOf = (variant) => ({ ...process.env, AUTHSOME_HOME: variant.home, AUTHSOME_MASTER_KEY: "00".repeat(32), NO_COLOR: "1" });

function time(variant, runtime, args) {
  const env = envOf(variant);
  const cmd = runtime === "node" ? [process.execPath, variant.bin, ...args] : [deno, "run", "-A", variant.bin, ...args];
  const out = must("python3", ["-c", WAIT4, ...cmd], { env });
  const [wall, cpu, code] = out.trim().split("\n").at(-1).split(" ").map(Number);
  if (code !== 0) throw new Error(`${runtime} ${args.join(" ")}: exit ${code}`);
  return { wall, cpu };
}

const variants = [prepare("before", before), prepare("after", after)];
const runtimes = ["node", ...(existsSync(deno) ? ["deno"] : [])];
const commands = [["--version"], ["list"], ["get", "openai", "--field", "status"]];
const samples = {};
for (const runtime of runtimes) for (const args of commands) for (const v of variants) {
  for (let i = 0; i < 3; i++) time(v, runtime, args); // page cache, Deno's module cache
  samples[`${runtime} ${args[0]} ${v.name}`] = [];
}
for (let i = 0; i < runs; i++) {
  for (const runtime of runtimes) for (const args of commands) for (const v of variants) {
    samples[`${runtime} ${args[0]} ${v.name}`].push(time(v, runtime, args));
  }
}
rmSync(root, { recursive: true, force: true });

const [b, a] = variants;
const rows = [];
for (const runtime of runtimes) for (const args of commands) {
  const of = (v, k) => median(samples[`${runtime} ${args[0]} ${v}`].map((x) => x[k]));
  const cell = (k) => `${of("before", k).toFixed(1)} ms | ${of("after", k).toFixed(1)} ms | **${(of("after", k) / of("before", k)).toFixed(2)}x**`;
  rows.push(`| ${runtime} | \`authsome ${args.join(" ")}\` | ${cell("cpu")} | ${cell("wall")} |`);
}
const text = [
  `Command: \`node bench/catalogue.mjs ${runs}\` (two packages built from the sources at ${source}, differing only in plugins/: ${b.plugins} bundled providers from ${before} vs ${a.plugins} from ${after}; each packed and installed offline into a fresh project; ${runs} interleaved cold runs of each command, medians of the child's CPU time (user + system) and of wall time; ${machineFacts()}). Goal: <= 1.1x (the registry stays lazy).`,
  "",
  `| runtime | command | CPU, ${b.plugins} providers | CPU, ${a.plugins} | CPU ratio | wall, ${b.plugins} | wall, ${a.plugins} | wall ratio |`,
  "|---|---|---|---|---|---|---|---|",
  ...rows,
  "",
  "`--version` loads no plugin; `list` loads every bundled plugin (it shows each provider's name and connections), so it is the command whose cost grows with the catalogue; `get` loads one. The bundled plugins are one chunk (plugins/catalogue.ts): `list` reads one file for all of them, `get` the same file for one.",
  "",
  LIST_NOTE,
].join("\n");
console.log(text);
writeSection("catalogue", text);
