/**
 * Loads a provider plugin written as a module (.ts, .mts, .js, .mjs) from anywhere on disk, the
 * same way on Node and Deno, with no TypeScript toolchain at run time.
 *
 * The module is compiled once, at `providers add`: types are stripped with sucrase (bundled,
 * loaded only for TypeScript files), import specifiers found with es-module-lexer,
 * `authsome/plugin` (and its npm and JSR names) rewritten to the URL of our own plugin entry,
 * and relative imports pointed back at the plugin's own directory. The result is written to a
 * private temporary directory and imported as a plain ES module in a child process
 * (plugin-sandbox.ts, bounded in time and output); its default export comes back as JSON, is
 * validated and stored as JSON by the registry, so no plugin code runs after installation.
 */
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { builtinModules } from "node:module";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { AuthsomeError } from "./errors.ts";
import { pluginError } from "./plugin-schema.ts";

/** Options for {@link compilePluginModule}. */
export interface CompileOptions {
  /** Absolute path the source was read from: relative imports resolve against its directory. */
  file: string;
  /** How the user named the plugin (file or package), for messages. */
  source: string;
  /** URL that `authsome/plugin` imports become; default {@link pluginEntryUrl}. */
  pluginUrl?: string;
  /**
   * True when the compiled module is written somewhere else than `file` (a temporary directory):
   * relative imports then become absolute file URLs, and bare package imports are refused, since
   * they could not resolve from there. False for an npm package's entry compiled in place.
   */
  relocate: boolean;
}

/** The public plugin entry under each name a plugin may import it by. */
const PLUGIN_SPECIFIER = /^(?:(?:npm:)?(?:authsome|authsome-broker)(?:@[^/]+)?|(?:jsr:)?@authsome\/broker(?:@[^/]+)?)\/plugin$/;
const TYPESCRIPT_FILE = /\.[mc]?ts$/i;
const URL_SPECIFIER = /^[a-z][a-z0-9+.-]*:/i;
const RELATIVE_SPECIFIER = /^\.{1,2}\/|^\//;

/**
 * The URL of the running copy's public `authsome/plugin` module: src/plugin.ts when running from
 * source (Deno, tsx), dist/plugin.mjs in the bundle. esbuild puts this code in dist/ or, as a
 * split chunk, in dist/chunks/ (scripts/build.mjs `chunkNames`), so both places are covered.
 */
export function pluginEntryUrl(): string {
  const here = import.meta.url;
  if (/\.ts$/.test(here)) return new URL("../plugin.ts", here).href;
  return new URL(new URL(".", here).pathname.endsWith("/chunks/") ? "../plugin.mjs" : "./plugin.mjs", here).href;
}

/**
 * Compiles a plugin module's source into a standalone ES module (see the file comment).
 * Throws plugin_invalid naming the source and, for syntax errors, the line and column.
 */
export async function compilePluginModule(code: string, options: CompileOptions): Promise<string> {
  const js = TYPESCRIPT_FILE.test(options.file) ? await _stripTypes(code, options.source) : code;
  const { init, parse } = await import("es-module-lexer");
  await init;
  let imports: ReturnType<typeof parse>[0];
  try {
    [imports] = parse(js);
  } catch (error) {
    throw pluginError(options.source, "", `syntax error${_lexerPosition(js, error)}`, error);
  }
  const pluginUrl = options.pluginUrl ?? pluginEntryUrl();
  let out = "";
  let last = 0;
  for (const entry of imports) {
    // import.meta (d === -2) and computed dynamic imports (no n) have nothing to rewrite.
    if (entry.n === undefined || entry.d === -2) continue;
    const target = _rewriteSpecifier(entry.n, pluginUrl, options);
    if (target === entry.n) continue;
    // Static imports: s..e is the text between the quotes; dynamic ones: the quoted literal.
    const [start, end] = entry.d === -1 ? [entry.s - 1, entry.e + 1] : [entry.s, entry.e];
    out += js.slice(last, start) + JSON.stringify(target);
    last = end;
  }
  return out + js.slice(last);
}

/** Where one import specifier points in the compiled module; throws for what cannot load. */
function _rewriteSpecifier(specifier: string, pluginUrl: string, options: CompileOptions): string {
  if (PLUGIN_SPECIFIER.test(specifier)) return pluginUrl;
  if (URL_SPECIFIER.test(specifier) || builtinModules.includes(specifier)) return specifier;
  if (!options.relocate) return specifier;
  if (RELATIVE_SPECIFIER.test(specifier)) {
    // Only the plugin file itself is compiled: a TypeScript helper beside it (`./x.ts`, or
    // `./x.js` / `./x` naming x.ts, as TypeScript allows) could not load, so say so now.
    const target = resolve(dirname(options.file), specifier);
    if (TYPESCRIPT_FILE.test(specifier) || !existsSync(target)) {
      throw pluginError(options.source, "", `imports "${specifier}": a plugin is compiled as one file, so it may import only existing .js/.mjs/.json files beside it; inline that module`);
    }
    return pathToFileURL(target).href;
  }
  throw pluginError(options.source, "", `imports the package "${specifier}": a plugin file may import only authsome/plugin, node: builtins, URLs and relative .js files; publish it as an npm package to use dependencies`);
}

/** Strips TypeScript syntax; a syntax error is refused with its position. */
async function _stripTypes(code: string, source: string): Promise<string> {
  // Loaded here only: sucrase is a bundled chunk that `authsome get` and friends never load.
  const { stripTypes, syntaxErrorPosition } = await import("./strip-types.ts");
  try {
    return stripTypes(code);
  } catch (error) {
    const position = syntaxErrorPosition(error);
    const at = position === undefined ? "" : ` at line ${position.line}, column ${position.column}`;
    const reason = error instanceof Error ? error.message.replace(/\s*\(\d+:\d+\)$/, "") : String(error);
    throw pluginError(source, "", `syntax error${at} (${reason})`, error);
  }
}

function _lexerPosition(code: string, error: unknown): string {
  const index = typeof error === "object" && error !== null && "idx" in error && typeof error.idx === "number" ? error.idx : -1;
  if (index < 0) return "";
  const before = code.slice(0, index).split("\n");
  return ` at line ${before.length}, column ${(before.at(-1)?.length ?? 0) + 1}`;
}

/** Options for {@link importPluginModule}. */
export interface ImportOptions {
  /** Compile beside the file (an npm package's entry, in a directory we own) instead of in a temp dir. */
  inPlace?: boolean;
  /** Directories the module must not read (the authsome home); enforced on Deno. */
  privateDirs?: string[];
}

/** Compiles and imports a plugin module and returns its default export (not yet validated). */
export async function importPluginModule(path: string, source: string, options: ImportOptions = {}): Promise<unknown> {
  let code: string;
  try {
    code = await readFile(path, "utf8");
  } catch (error) {
    throw new AuthsomeError("usage", `cannot read plugin file ${source}`, { cause: error });
  }
  const { parse, init } = await import("es-module-lexer");
  await init;
  // CommonJS (no import/export anywhere): Deno would not run it as a .js file, so it is wrapped.
  const commonJs = !TYPESCRIPT_FILE.test(path) && !_hasModuleSyntax(parse, code);
  const compiled = commonJs
    ? wrapCommonJs(code, path, pluginEntryUrl())
    : await compilePluginModule(code, { file: path, source, relocate: options.inPlace !== true });
  const dir = options.inPlace === true ? dirname(path) : await mkdtemp(join(tmpdir(), "authsome-plugin-build-"));
  const out = join(dir, `.authsome-${basename(path).replace(/\.[^.]*$/, "")}-${crypto.randomUUID()}.mjs`);
  try {
    await writeFile(out, compiled, { mode: 0o600 });
    // Imported in a child process: a loop, a throw or an exit at import is one error, not ours.
    const { loadModuleIsolated } = await import("./plugin-sandbox.ts");
    return await loadModuleIsolated(out, source, options.privateDirs === undefined ? {} : { privateDirs: options.privateDirs });
  } finally {
    await rm(options.inPlace === true ? out : dir, { recursive: true, force: true });
  }
}

/**
 * Turns a CommonJS plugin into an ES module that runs the same on Node and Deno: `module`,
 * `exports`, `require` (relative to the original file; `authsome/plugin` is ours), `__filename`
 * and `__dirname`, all declared on the first line so line numbers in errors stay right. The
 * default export is `module.exports`, or its `default` when a compiler marked it `__esModule`.
 */
export function wrapCommonJs(code: string, file: string, pluginUrl: string): string {
  const prelude = [
    `import { createRequire as __authsomeCreateRequire } from "node:module";`,
    `import * as __authsomePlugin from ${JSON.stringify(pluginUrl)};`,
    `const __filename = ${JSON.stringify(file)}; const __dirname = ${JSON.stringify(dirname(file))};`,
    `const __authsomeRequire = __authsomeCreateRequire(__filename);`,
    `const require = (s) => (${PLUGIN_SPECIFIER.toString()}.test(s) ? __authsomePlugin : __authsomeRequire(s));`,
    "const module = { exports: {} }; let exports = module.exports;",
  ].join(" ");
  const epilogue = "export default module.exports !== null && typeof module.exports === \"object\" && module.exports.__esModule === true ? module.exports.default : module.exports;";
  // A function body keeps the plugin's own top-level `var`s and `return` legal, as in Node.
  return `${prelude} (function () {${code}\n}).call(module.exports);\n${epilogue}\n`;
}

function _hasModuleSyntax(parse: typeof import("es-module-lexer").parse, code: string): boolean {
  try {
    return parse(code)[3];
  } catch {
    return true; // let the compile step report the syntax error with its position
  }
}
