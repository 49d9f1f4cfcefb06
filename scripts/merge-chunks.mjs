// A second esbuild pass over the code-split build: the chunks a CLI start-up and a `get` load
// are merged into a few files, and each merged chunk's file becomes a one-line facade that
// re-exports from its merged file, so every other chunk (and the library entries) keeps its
// imports and shares the same module instances (one AuthsomeError class, one flow registry).
//
// Why: esbuild puts each module in a chunk keyed by the exact set of entries (static and
// dynamic) that reach it, and does not move code into a chunk already loaded before it (Rollup
// does); with 20 commands as dynamic entries, a `get` loaded 41 files of 0.3-20 KB, and Node 20
// has no compile cache for ES modules: each file is read, compiled, linked and evaluated on
// its own turn of the loader.
//
// Two groups, by who reaches a chunk: "lib" holds what the library entries reach (and the CLI
// shares with them), "cli" what only the CLI's start-up and `get` path reach. "cli" imports
// "lib", never the reverse, so there is no cycle; the library does not load the CLI's code.
// Inside a group a dynamic import of a member is inlined by esbuild (a `Promise.resolve` of the
// module, initialised on first use), so `get` follows no chain of facade files: a `get` loads
// six files (bin, cli.mjs, the two merged files and two small shared chunks), not twelve; each
// file costs Node 20's loader ~0.4 ms (resolve, read, compile, link, a turn of its own).
// The bundled catalogue (plugins/catalogue.ts, a dynamic import of the registry) goes with
// "lib": inlined, its JSON is parsed only when the registry first asks for it.
//
// Each group is emitted as a script (merged-<group>-<hash>.js, scripts/merge-script.mjs) and an
// ES module (chunks/merged-lib.mjs; dist/cli.mjs itself for "cli") that imports what the script
// imports, runs it through src/runtime/code-cache.ts (a V8 code cache kept between runs, which
// Node 20 has none of for ES modules) and exports its names; docs/architecture.md says why and
// where the cache lives.
import { createHash } from "node:crypto";
import { build } from "esbuild";
import { toScript } from "./merge-script.mjs";
import { readFile, writeFile } from "node:fs/promises";
import { basename, dirname, join, relative, resolve } from "node:path";

/** The `get` path's dynamic entries (sources), loaded by every API command. */
const HOT_ENTRIES = ["src/cli/commands/get.ts", "src/server/routes.ts", "src/core/auth-service.ts"];
/** Dynamic entries the library reaches on every lookup: merged into "lib". */
const LIB_LAZY_ENTRIES = ["plugins/catalogue.ts"];
/** Library entries: their chunks are grouped apart from the CLI-only ones. */
const LIBRARY_ENTRIES = ["src/index.ts", "src/intercept/index.ts"];
/** Entries that must stay light: their chunks are never merged. */
const LIGHT_ENTRIES = ["src/plugin.ts", "src/intercept/preload.mjs", "src/runtime/keyring-child.mjs"];

/**
 * Shared chunks the merged files may hold copies of, by the sources in them: they keep no state,
 * so a second copy is no second instance of anything. A chunk with no sources is esbuild's own
 * helpers (`__commonJS`, `__toESM`, `__require`); src/core/plugin.ts holds constant lists, types
 * and the identity `definePlugin`.
 */
const COPIED_INPUTS = new Set(["src/core/plugin.ts"]);

/** The options of both passes here: one minified ES module, returned, not written. */
const IN_MEMORY_BUNDLE = { bundle: true, write: false, format: "esm", platform: "node", target: "node20", minify: true, legalComments: "none", logLevel: "warning" };

function _closure(outputs, roots) {
  const seen = new Set();
  const queue = [...roots];
  while (queue.length > 0) {
    const path = queue.pop();
    if (path === undefined || seen.has(path)) continue;
    seen.add(path);
    for (const i of outputs[path].imports) if (i.kind === "import-statement" && !i.external) queue.push(i.path);
  }
  return seen;
}

function _groups(outputs, cliEntry) {
  const byEntry = new Map(Object.entries(outputs).filter(([, o]) => o.entryPoint).map(([path, o]) => [o.entryPoint, path]));
  const of = (entries) => _closure(outputs, entries.map((e) => byEntry.get(e)).filter((p) => p !== undefined));
  const cli = _closure(outputs, [cliEntry]);
  const libLazy = of(LIB_LAZY_ENTRIES);
  const hot = new Set([...cli, ...of(HOT_ENTRIES), ...libLazy]);
  const library = new Set([...of(LIBRARY_ENTRIES), ...libLazy]);
  const light = of(LIGHT_ENTRIES);
  const groups = { lib: [], cli: [] };
  for (const path of hot) {
    if (light.has(path) || !path.endsWith(".mjs")) continue;
    groups[library.has(path) ? "lib" : "cli"].push(path);
  }
  return groups;
}

/** Where each merged chunk goes, and the text of a re-export of its names from there. */
function _plan(outputs, chunks) {
  const cliEntry = Object.keys(outputs).find((p) => outputs[p].entryPoint === "src/cli/main.ts");
  const groups = _groups(outputs, cliEntry);
  // Every member gets a global index: its exports are `m<index>$<name>` in its merged file.
  const home = new Map();
  for (const [group, members] of Object.entries(groups)) members.forEach((path) => home.set(resolve(path), { group, index: home.size }));
  const exportsOf = (path) => outputs[relative(process.cwd(), path)]?.exports ?? [];
  const alias = (path, name) => `m${home.get(path).index}$${name}`;
  // The "cli" group's module is dist/cli.mjs itself (what bin/authsome.mjs imports): one module
  // fewer to load than a re-export of a merged file.
  const modules = { lib: resolve(chunks, "merged-lib.mjs"), cli: resolve(cliEntry) };
  const fileOf = (path) => modules[home.get(path).group];
  const reexport = (path, from) => {
    const names = exportsOf(path);
    const spec = JSON.stringify(from);
    return names.length === 0 ? `import ${spec};\n` : `export { ${names.map((n) => `${alias(path, n)} as ${n}`).join(", ")} } from ${spec};\n`;
  };
  // Copied into each merged file instead of imported from it: one module fewer each to load.
  const copied = new Set(Object.entries(outputs).filter(([path, o]) => path.endsWith(".mjs") && !o.entryPoint && Object.keys(o.inputs).every((i) => COPIED_INPUTS.has(i))).map(([path]) => resolve(path)));
  return { groups, home, exportsOf, alias, fileOf, reexport, copied, modules };
}

/** Bundles one group's chunks into one module exporting every member's names under its alias. */
async function _mergeGroup(plan, members, chunks) {
  const own = new Set(members.map((p) => resolve(p)));
  const entry = [...own].map((path) => {
    const names = plan.exportsOf(path);
    const spec = JSON.stringify(path);
    return names.length === 0 ? `import ${spec};` : `export { ${names.map((n) => `${n} as ${plan.alias(path, n)}`).join(", ")} } from ${spec};`;
  }).join("\n");
  const onResolve = (args) => {
    // node:* builtins and ioredis, as in the first pass.
    if (!args.path.startsWith(".") && !args.path.startsWith("/")) return { path: args.path, external: true };
    const path = resolve(args.resolveDir, args.path);
    if (own.has(path) || plan.copied.has(path)) return { path };
    // A member of another merged group: import its names from that group's file directly.
    if (plan.home.has(path) && args.kind === "import-statement") return { path, namespace: "merged-facade" };
    const spec = relative(chunks, path);
    return { path: spec.startsWith(".") ? spec : `./${spec}`, external: true };
  };
  const onLoad = (args) => ({ contents: plan.reexport(args.path, `./${relative(chunks, plan.fileOf(args.path))}`), loader: "js", resolveDir: chunks });
  const result = await build({
    ...IN_MEMORY_BUNDLE,
    stdin: { contents: entry, resolveDir: chunks, sourcefile: "merged.mjs", loader: "js" },
    plugins: [{ name: "merge-hot-chunks", setup: (b) => void (b.onResolve({ filter: /.*/ }, onResolve), b.onLoad({ filter: /.*/, namespace: "merged-facade" }, onLoad)) }],
  });
  return result.outputFiles[0].text;
}

const CODE_CACHE = resolve("src/runtime/code-cache.ts");

/**
 * A merged group's script (scripts/merge-script.mjs) and the ES module that runs it: the module
 * imports what the script imports (other chunks as ES modules, so their instances stay the
 * ones every file shares), runs it through the code cache and exports its names, and a member
 * that is the module's own file (dist/cli.mjs) its names unaliased too.
 */
async function _scriptAndModule(plan, members, code, scriptFile, moduleFile) {
  const { script, deps, names } = await toScript(code, basename(scriptFile));
  const from = (file) => {
    const spec = relative(dirname(moduleFile), file);
    return JSON.stringify(spec.startsWith(".") ? spec : `./${spec}`);
  };
  const chunks = dirname(scriptFile);
  const own = members.map((p) => resolve(p)).filter((p) => p === moduleFile).flatMap((p) => plan.exportsOf(p).map((n) => `${plan.alias(p, n)} as ${n}`));
  const entry = [
    ...deps.map((d, i) => `import * as d${i} from ${from(join(chunks, d))};`),
    `import { runCached } from ${JSON.stringify(CODE_CACHE)};`,
    `const ns = runCached(new URL(${from(scriptFile)}, import.meta.url).href, { ${deps.map((d, i) => `${JSON.stringify(d)}: d${i}`).join(", ")} });`,
    names.length > 0 ? `export const { ${names.join(", ")} } = ns;` : "",
    own.length > 0 ? `export { ${own.join(", ")} };` : "",
  ].join("\n");
  const result = await build({
    ...IN_MEMORY_BUNDLE,
    stdin: { contents: entry, resolveDir: process.cwd(), sourcefile: "merged-module.mjs", loader: "js" },
    // The script's imports stay imports of the chunk files beside it.
    plugins: [{ name: "chunk-imports", setup: (b) => void b.onResolve({ filter: /^\.\.?\// }, (args) => ({ path: args.path, external: true })) }],
  });
  return { script, module: result.outputFiles[0].text };
}

/**
 * The merged modules export their script's names as constants taken once it ran (an ES module
 * cannot re-export a getter), so no source in them may reassign an exported binding later.
 */
async function _checkNoMutableExports(metafile, members) {
  const sources = new Set(members.flatMap((path) => Object.keys(metafile.outputs[path].inputs)).filter((i) => /^(src|plugins)\//.test(i)));
  for (const source of sources) {
    if (/^export\s+(let|var)\b/m.test(await readFile(source, "utf8"))) throw new Error(`merge-chunks: ${source} exports a let or var binding, which a merged module would not keep live`);
  }
}

/**
 * Merges the hot chunks of the build in `outdir` (esbuild's `metafile` of it), in place. Returns
 * the merged modules' paths (they take `require` from the code cache, not from a banner).
 */
export async function mergeHotChunks(outdir, metafile) {
  const chunks = join(outdir, "chunks");
  const plan = _plan(metafile.outputs, chunks);
  const merged = [];
  for (const [group, members] of Object.entries(plan.groups)) {
    if (members.length === 0) continue;
    await _checkNoMutableExports(metafile, members);
    const file = plan.modules[group];
    const code = await _mergeGroup(plan, members, chunks);
    // Named by its content: the code cache is keyed by the name (V8 checks only the length).
    const scriptFile = join(chunks, `merged-${group}-${createHash("sha256").update(code).digest("hex").slice(0, 16)}.js`);
    const { script, module } = await _scriptAndModule(plan, members, code, scriptFile, file);
    await writeFile(scriptFile, script);
    await writeFile(file, module);
    merged.push(file);
  }
  // The members' files last (the merge read their code): each re-exports from its merged file.
  for (const path of plan.home.keys()) {
    if (merged.includes(path)) continue;
    const spec = relative(dirname(path), plan.fileOf(path));
    await writeFile(path, plan.reexport(path, spec.startsWith(".") ? spec : `./${spec}`));
  }
  return merged;
}

/** What gives an ES module Node's `require` (bundled CommonJS dependencies call it). */
export const REQUIRE_BANNER = "import { createRequire as __authsomeRequire } from 'node:module'; const require = __authsomeRequire(import.meta.url);\n";

/**
 * The ESM files that call `require` (bundled CommonJS code) get Node's, from `createRequire`;
 * the others are left without it (it was a banner on every chunk: one `createRequire` per module
 * loaded). Returns the names of the files given one.
 */
export async function addRequireWhereUsed(files) {
  const banner = REQUIRE_BANNER;
  const given = [];
  for (const file of files) {
    const text = await readFile(file, "utf8");
    if (!/\brequire\b/.test(text)) continue;
    await writeFile(file, banner + text);
    given.push(file);
  }
  return given;
}

