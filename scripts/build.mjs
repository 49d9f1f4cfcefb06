// Builds what the package ships: one esbuild bundle of src/ for Node (and for Deno running the
// npm package), code-split so lazy imports (plugins, flows, proxy) stay out of the hot path,
// then the chunks of the CLI's start-up and `get` path merged into four files
// (scripts/merge-chunks.mjs); and the .d.ts types consumers compile against.
//   node scripts/build.mjs            the published build: no source maps
//   node scripts/build.mjs --debug    the same with linked source maps, for local debugging
// Every pure-JS dependency is bundled here (they are devDependencies); ioredis is the one
// runtime dependency and stays external (loaded only for redis:// storage).
import { build } from "esbuild";
import { init, parse } from "es-module-lexer";
import { spawnSync } from "node:child_process";
import { readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { isDeepStrictEqual } from "node:util";
import { addRequireWhereUsed, mergeHotChunks, REQUIRE_BANNER } from "./merge-chunks.mjs";

const debug = process.argv.includes("--debug");
const entryPoints = {
  cli: "src/cli/main.ts",
  index: "src/index.ts",
  plugin: "src/plugin.ts",
  intercept: "src/intercept/index.ts",
  // The plugin author's kit (conformance suite, init templates); shares the core's chunks.
  kit: "src/kit/index.ts",
  // src/proxy/child.ts finds it at ../intercept/preload.mjs from its chunk in dist/chunks/.
  "intercept/preload": "src/intercept/preload.mjs",
  // src/runtime/keyring.ts finds it at ../runtime/keyring-child.mjs from its chunk in dist/chunks/.
  "runtime/keyring-child": "src/runtime/keyring-child.mjs",
};

/** Nearest package.json "type" decides what a .js file is (Node's rule). */
async function isCommonJs(path) {
  if (path.endsWith(".cjs")) return true;
  if (path.endsWith(".mjs")) return false;
  await init;
  const [, , , hasModuleSyntax] = parse(await readFile(path, "utf8"));
  return !hasModuleSyntax;
}

/**
 * esbuild gives a dynamically imported CommonJS package (`await import("undici")`) a chunk with
 * only `export default`, so named bindings are undefined at run time ("Agent is not a
 * constructor"). This plugin puts an ES facade in front of such imports: the default export plus
 * every name the package exports, read by requiring it once at build time.
 */
const cjsNamedExports = {
  name: "cjs-named-exports",
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, async (args) => {
      if (args.kind !== "dynamic-import") return undefined;
      const resolved = await b.resolve(args.path, { kind: "import-statement", resolveDir: args.resolveDir });
      if (resolved.errors.length > 0 || resolved.external || !(await isCommonJs(resolved.path))) return undefined;
      return { path: args.path, namespace: "cjs-facade", pluginData: args.resolveDir };
    });
    b.onLoad({ filter: /.*/, namespace: "cjs-facade" }, (args) => {
      const exported = createRequire(join(args.pluginData, "_.js"))(args.path);
      const names = Object.keys(exported).filter((n) => /^[A-Za-z_$][\w$]*$/.test(n) && n !== "default");
      const spec = JSON.stringify(args.path);
      return { contents: `import m from ${spec};\nexport default m;\nexport const { ${names.join(", ")} } = m;\n`, resolveDir: args.pluginData, loader: "js" };
    });
  },
};

/**
 * undici's main file is CommonJS that requires all of undici (fetch, WebSocket, mocks, caches,
 * interceptors: ~534 KB bundled), which no bundler can tree-shake; we use four names of it
 * (src/runtime/upstream.ts, src/intercept/preload.mjs). This facade requires only their files
 * (~313 KB). A name it lacks fails the build ("No matching export"), never the run.
 */
const UNDICI_FACADE = [
  'import Dispatcher from "undici/lib/dispatcher/dispatcher.js";',
  'import api from "undici/lib/api/index.js";',
  // As undici's index.js does: ProxyAgent (under EnvHttpProxyAgent) calls client.connect() from these.
  "Object.assign(Dispatcher.prototype, api);",
  'export { default as Agent } from "undici/lib/dispatcher/agent.js";',
  'export { default as EnvHttpProxyAgent } from "undici/lib/dispatcher/env-http-proxy-agent.js";',
  'export { default as buildConnector } from "undici/lib/core/connect.js";',
  'export { setGlobalDispatcher } from "undici/lib/global.js";',
].join("\n");
const undiciFacade = {
  name: "undici-facade",
  setup(b) {
    b.onResolve({ filter: /^undici$/ }, (args) => ({ path: "undici", namespace: "undici-facade", pluginData: args.resolveDir }));
    b.onLoad({ filter: /.*/, namespace: "undici-facade" }, (args) => ({ contents: UNDICI_FACADE, resolveDir: args.pluginData, loader: "js" }));
  },
};

/**
 * sucrase checks its options against a runtime type description at every call (its Options.js,
 * with ts-interface-checker: ~18 KB bundled). src/core/strip-types.ts passes one constant
 * object, so the check is left out: its validateOptions becomes a no-op.
 */
const sucraseWithoutOptionsCheck = {
  name: "sucrase-options",
  setup(b) {
    b.onLoad({ filter: /[\\/]sucrase[\\/]dist[\\/]esm[\\/]Options\.js$/ }, () => ({ contents: "export function validateOptions() {}\n", loader: "js" }));
  },
};

/**
 * esbuild turns a regex literal with `\p{...}` into `new RegExp(...)`, which it must keep at the
 * top level (a constructor call may have effects); valibot's EMOJI_REGEX is one, and V8 parses
 * its pattern at construction: ~1 ms of every start for an action we never call. Marked pure,
 * its unused constant is dropped with the action.
 */
const valibotPureRegex = {
  name: "valibot-pure-regex",
  setup(b) {
    b.onLoad({ filter: /[\\/]valibot[\\/]dist[\\/]index\.mjs$/ }, async (args) => {
      const text = await readFile(args.path, "utf8");
      // `const X_REGEX = /…\p{…}…/u;` -> `const X_REGEX = /* @__PURE__ */ (() => /…/u)();`
      return { contents: text.replace(/^(const [A-Z0-9_]+_REGEX = )(\/.*\\p\{.*\/[a-z]*);$/gm, "$1/* @__PURE__ */ (() => $2)();"), loader: "js" };
    });
  },
};

/** Bundles `entry` for Node beside the build, imports it once and returns its exports. */
async function importAtBuildTime(entry) {
  const file = `catalogue-${process.pid}.tmp.mjs`;
  await build({ entryPoints: [entry], bundle: true, format: "esm", platform: "node", outfile: file, logLevel: "warning" });
  try {
    return { ...(await import(pathToFileURL(file).href)) };
  } finally {
    await rm(file);
  }
}

/**
 * plugins/catalogue.ts is data only (every bundled plugin): it ships as one JSON string per
 * plugin, parsed on first access to that plugin, which V8 reads faster than the same object
 * literals compiled as code (the catalogue's chunk 3.3 -> 2.3 ms CPU as one string on a loaded
 * machine), and a `get` parses only the provider it asks for (~0.7 ms of parsing all 130). Any
 * export that JSON does not carry exactly (a function, undefined, NaN) keeps the module as written.
 */
const catalogueAsJson = {
  name: "catalogue-json",
  setup(b) {
    b.onLoad({ filter: /[\\/]plugins[\\/]catalogue\.ts$/ }, async (args) => {
      const lines = ["function lazyJson(texts) {", "  const out = {};", "  for (const [name, text] of Object.entries(texts)) {",
        "    Object.defineProperty(out, name, { enumerable: true, configurable: true, get() { const value = JSON.parse(text); Object.defineProperty(out, name, { value, enumerable: true }); return value; } });",
        "  }", "  return out;", "}"];
      for (const [name, value] of Object.entries(await importAtBuildTime(args.path))) {
        if (name === "default" || value === null || typeof value !== "object") return undefined;
        const texts = {};
        for (const [key, item] of Object.entries(value)) {
          const text = JSON.stringify(item);
          if (text === undefined || !isDeepStrictEqual(JSON.parse(text), item)) return undefined;
          texts[key] = text;
        }
        lines.push(`export const ${name} = lazyJson(${JSON.stringify(texts)});`);
      }
      return { contents: lines.join("\n"), loader: "js" };
    });
  },
};

/** Emits .d.ts with tsc, then points their relative `.ts` specifiers at the `.d.ts` siblings. */
async function emitTypes(outdir) {
  const tsc = spawnSync(process.execPath, ["node_modules/typescript/bin/tsc", "-p", "tsconfig.types.json", "--outDir", join(outdir, "types")], { stdio: "inherit" });
  if (tsc.status !== 0) throw new Error("tsc: declaration emit failed");
  // tsc keeps `./x.ts` as written (allowImportingTsExtensions); consumers resolve `./x.js`.
  const files = (await readdir(join(outdir, "types"), { recursive: true })).filter((f) => f.endsWith(".d.ts"));
  await Promise.all(files.map(async (file) => {
    const path = join(outdir, "types", file);
    const text = await readFile(path, "utf8");
    await writeFile(path, text.replace(/((?:from|import)\s*\(?\s*["']\.{1,2}\/[^"']*?)\.ts(["'])/g, "$1.js$2"));
  }));
  await pruneUnreachable(join(outdir, "types"), files, ["src/index.d.ts", "src/plugin.d.ts", "src/intercept/index.d.ts", "src/kit/index.d.ts"]);
}

/** Deletes the .d.ts files no public entry reaches (tsc emits one per source in the program). */
async function pruneUnreachable(dir, files, entries) {
  const reached = new Set();
  const queue = [...entries];
  while (queue.length > 0) {
    const file = queue.pop();
    if (reached.has(file)) continue;
    reached.add(file);
    const text = await readFile(join(dir, file), "utf8");
    // `from "./x.js"`, `import("./x.js")` and a side-effect `import "./x.js"` (src/index.ts's register).
    for (const [, spec] of text.matchAll(/(?:from|import\(?)\s*["'](\.{1,2}\/[^"']+)\.js["']/g)) queue.push(join(dirname(file), `${spec}.d.ts`));
  }
  await Promise.all(files.filter((f) => !reached.has(f)).map((f) => rm(join(dir, f))));
  const dirs = (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => join(e.parentPath, e.name));
  for (const d of dirs.sort((a, b) => b.length - a.length)) if ((await readdir(d)).length === 0) await rm(d, { recursive: true });
}

/**
 * The registry takes bundled plugins as they are (src/core/registry.ts): refuse to build a
 * catalogue the plugin schema would change or reject (test/plugins/bundled-trusted.test.ts too).
 */
async function checkBundledPlugins(outdir) {
  const contents = [
    'import { isDeepStrictEqual } from "node:util";',
    'import { catalogue } from "./plugins/catalogue.ts";',
    'import { validatePlugin } from "./src/core/plugin-schema.ts";',
    "for (const [name, plugin] of Object.entries(catalogue)) {",
    "  if (!isDeepStrictEqual(validatePlugin(plugin, `plugins/${name}.ts`), plugin)) throw new Error(`plugins/${name}.ts: the plugin schema changes it`);",
    "}",
  ].join("\n");
  const file = join(outdir, "check-plugins.mjs");
  await build({ stdin: { contents, resolveDir: ".", loader: "ts" }, bundle: true, format: "esm", platform: "node", outfile: file, logLevel: "warning" });
  try {
    await import(pathToFileURL(file).href);
  } finally {
    await rm(file);
  }
}

// Build beside dist/ and swap it in, so a CLI started by a test running meanwhile finds a whole
// dist/ (old or new), not a half-written one.
const outdir = `dist.tmp-${process.pid}`;
await rm(outdir, { recursive: true, force: true });
const result = await build({
  entryPoints,
  outdir,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  outExtension: { ".js": ".mjs" },
  // dist/cli.mjs is only ever imported (by bin/authsome.mjs); main.ts's run-when-main branch is
  // for Deno running the source, and its top-level await could not go into the merged script.
  define: { "import.meta.main": "false" },
  chunkNames: "chunks/[name]-[hash]",
  sourcemap: debug ? "linked" : false,
  // Fully minified for the package; `--debug` keeps names and adds source maps for stack traces.
  minifyWhitespace: !debug,
  minifySyntax: !debug,
  minifyIdentifiers: !debug,
  legalComments: "none",
  logLevel: "warning",
  plugins: [undiciFacade, cjsNamedExports, catalogueAsJson, sucraseWithoutOptionsCheck, valibotPureRegex],
  metafile: true,
  // Bundled CommonJS dependencies call require(): Node's, from createRequire. The published build
  // gives it only to the files that use it (below); a banner keeps the debug build's maps exact.
  ...(debug ? { banner: { js: REQUIRE_BANNER.trimEnd() } } : {}),
  // @napi-rs/keyring is native (an optional dependency), loaded only by the keyring helper.
  external: ["ioredis", "@napi-rs/keyring"],
  // hash-wasm's "main" is a UMD build of every algorithm (~218 KB); its ES build lets the
  // bundler keep only argon2 (src/core/argon2.ts), ~29 KB.
  // jsonc-parser's "main" is UMD whose require() calls the bundler cannot see: its ES build.
  // sucrase's "main" is CommonJS (~292 KB with its dependencies); its ES build lets the bundler
  // drop what type stripping never calls (source maps, most of the options checker), ~203 KB.
  alias: { "hash-wasm": "hash-wasm/dist/index.esm.js", "jsonc-parser": "jsonc-parser/lib/esm/main.js", sucrase: "sucrase/dist/esm/index.js" },
});
// The CLI's start-up and `get` path merged into a few files (scripts/merge-chunks.mjs); the
// debug build keeps esbuild's chunks, whose source maps a second pass would not carry.
if (!debug) {
  const merged = new Set((await mergeHotChunks(outdir, result.metafile)).map((f) => resolve(f)));
  const modules = (await readdir(outdir, { recursive: true })).filter((f) => f.endsWith(".mjs")).map((f) => join(outdir, f)).filter((f) => !merged.has(resolve(f)));
  await addRequireWhereUsed(modules);
}
await checkBundledPlugins(outdir);
await emitTypes(outdir);
await rm(`dist.old-${process.pid}`, { recursive: true, force: true });
await rename("dist", `dist.old-${process.pid}`).catch(() => {});
await rename(outdir, "dist");
await rm(`dist.old-${process.pid}`, { recursive: true, force: true });
