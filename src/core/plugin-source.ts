/**
 * Where `providers add` and `providers test` read a plugin from: a JSON or JSONC file, a
 * .ts/.js module (compiled and run in the sandbox child, plugin-module.ts), a `jsr:` spec, or an
 * npm package installed into a temporary prefix. Everything here loads on demand: listing and
 * using installed plugins never needs it.
 */
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { extname, join, resolve } from "node:path";
import { AuthsomeError } from "./errors.ts";
import type { ProviderPlugin } from "./plugin.ts";
import { pluginError, validatePlugin } from "./plugin-schema.ts";
import { loadRegexEngine, prepareRegexEngine } from "./rule-regex.ts";

/** File extensions loaded as module plugins. */
export const MODULE_EXTENSIONS = new Set([".ts", ".mts", ".js", ".mjs", ".cjs"]);

/** The naming convention for third-party plugins on npm (docs/plugins.md, Installing). */
export const PLUGIN_PACKAGE_PREFIX = "authsome-plugin-";

/** Options for {@link loadPluginSource}. */
export interface LoadSourceOptions {
  /**
   * For a bare name, try only `authsome-plugin-NAME`, not the package NAME itself: set when NAME
   * is a bundled provider, whose bare npm name is most likely the service's SDK, not a plugin.
   */
  conventionOnly?: boolean;
}

/**
 * A bare name is a lower-case npm name without scope, version, path or URL (`acme`), that no
 * file or directory here has: `providers add acme` means a plugin, not whatever `acme` is.
 */
export function isBareName(spec: string): boolean {
  return /^[a-z0-9][a-z0-9._-]*$/.test(spec) && !existsSync(spec);
}

/**
 * The npm specs tried for a source, in order: a bare name is the convention's
 * `authsome-plugin-NAME`, then (unless `conventionOnly`) NAME itself, so a plugin published
 * under its own name still installs; a full, scoped, versioned or local spec is taken as it is.
 */
export function npmCandidates(spec: string, options: LoadSourceOptions = {}): string[] {
  if (!isBareName(spec) || spec.startsWith(PLUGIN_PACKAGE_PREFIX)) return [spec];
  return options.conventionOnly === true ? [`${PLUGIN_PACKAGE_PREFIX}${spec}`] : [`${PLUGIN_PACKAGE_PREFIX}${spec}`, spec];
}

/** Validates a plugin definition, loading the regex engine its rules need first. @internal */
export async function validatedPlugin(input: unknown, source: string): Promise<ProviderPlugin> {
  await prepareRegexEngine(input);
  return validatePlugin(input, source);
}

/**
 * Loads and validates a plugin from a file or npm spec without installing it (`providers add`
 * stores the result; `providers test` checks it); `origin` is recorded as `$source`.
 * `home` is the directory a module plugin may not read. @internal
 */
export async function loadPluginSource(source: string, home: string, options: LoadSourceOptions = {}): Promise<{ plugin: ProviderPlugin; origin: string; moduleSource?: string }> {
  // Installing is rare: RE2 checks the API-key pattern too, not only `regex:` rules.
  await loadRegexEngine();
  const ext = extname(source).toLowerCase();
  if (ext === ".json" || ext === ".jsonc") {
    const path = resolve(source);
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch (error) {
      throw new AuthsomeError("usage", `cannot read plugin file ${source}`, { cause: error });
    }
    // jsonc-parser is loaded here only: installed plugins are stored as plain JSON.
    const { loadPluginText } = await import("./plugin-jsonc.ts");
    await prepareRegexEngine(text);
    return { plugin: loadPluginText(text, source, ext === ".jsonc" ? "jsonc" : "json"), origin: path };
  }
  if (MODULE_EXTENSIONS.has(ext)) {
    const path = resolve(source);
    const { importPluginModule } = await import("./plugin-module.ts"); // only `providers add` needs it
    const plugin = await validatedPlugin(await importPluginModule(path, source, { privateDirs: [home] }), source);
    // Kept beside the definition in a shared store: what the definition was made from.
    return { plugin, origin: path, moduleSource: await readFile(path, "utf8") };
  }
  if (source.startsWith("jsr:")) {
    const { withJsrEntry } = await import("./plugin-jsr.ts");
    const { importPluginModule } = await import("./plugin-module.ts");
    const { value, origin } = await withJsrEntry(source, (path) => importPluginModule(path, source, { privateDirs: [home] }));
    return { plugin: await validatedPlugin(value, source), origin };
  }
  return await loadNpmCandidates(source, home, npmCandidates(source, options));
}

/** Tries each candidate npm name in turn; only "no such package" (npm's E404) moves on to the next. */
async function loadNpmCandidates(source: string, home: string, candidates: string[]): Promise<{ plugin: ProviderPlugin; origin: string }> {
  for (const [i, spec] of candidates.entries()) {
    try {
      return await loadNpm(spec, home);
    } catch (error) {
      if (!(error instanceof AuthsomeError && error.code === "provider_not_found")) throw error;
      if (i < candidates.length - 1) continue;
      const tried = candidates.map((c) => `"${c}"`).join(" and ");
      throw new AuthsomeError("provider_not_found", `no plugin package for "${source}": npm has no ${tried}`, {
        cause: error,
        hint: `third-party plugins are published as ${PLUGIN_PACKAGE_PREFIX}NAME or @scope/${PLUGIN_PACKAGE_PREFIX}NAME; a file needs a path (./${source}.json)`,
      });
    }
  }
  throw new AuthsomeError("usage", `no npm spec for "${source}"`);
}

/** Installs an npm spec into a temporary prefix, imports its entry, then deletes the prefix. */
async function loadNpm(spec: string, home: string): Promise<{ plugin: ProviderPlugin; origin: string }> {
  const prefix = await mkdtemp(join(tmpdir(), "authsome-plugin-"));
  try {
    // A package.json of our own lets npm record the resolved package name for us to read.
    await writeFile(join(prefix, "package.json"), "{\"private\":true}\n");
    const local = /^(\.|\/|[A-Za-z]:\\)/.test(spec) || existsSync(spec);
    const target = local ? resolve(spec) : spec;
    // --ignore-scripts: installing a plugin must not run its lifecycle scripts.
    await run("npm", ["install", "--prefix", prefix, "--ignore-scripts", "--no-audit", "--no-fund", target], spec);
    const manifest: unknown = JSON.parse(await readFile(join(prefix, "package.json"), "utf8"));
    const name = dependencyName(manifest);
    if (name === null) throw pluginError(spec, "", "npm installed no package");
    const pkgDir = join(prefix, "node_modules", name);
    const { importPluginModule } = await import("./plugin-module.ts");
    // Compiled beside the entry, in the temporary prefix, so its own imports resolve as npm laid them out.
    const plugin = await validatedPlugin(await importPluginModule(await packageEntry(pkgDir, spec), spec, { inPlace: true, privateDirs: [home] }), spec);
    const version = versionOf(JSON.parse(await readFile(join(pkgDir, "package.json"), "utf8")));
    return { plugin, origin: local ? target : `${name}@${version}` };
  } finally {
    await rm(prefix, { recursive: true, force: true });
  }
}

function dependencyName(manifest: unknown): string | null {
  if (typeof manifest !== "object" || manifest === null || !("dependencies" in manifest)) return null;
  const deps = manifest.dependencies;
  return typeof deps === "object" && deps !== null ? (Object.keys(deps)[0] ?? null) : null;
}

function versionOf(manifest: unknown): string {
  const version = typeof manifest === "object" && manifest !== null && "version" in manifest ? manifest.version : undefined;
  return typeof version === "string" ? version : "0.0.0";
}

/** The ESM entry of an installed package: `exports` (import/default), `module`, `main`, index.js. */
async function packageEntry(pkgDir: string, spec: string): Promise<string> {
  const manifest: unknown = JSON.parse(await readFile(join(pkgDir, "package.json"), "utf8"));
  const pick = (value: unknown): string | undefined => {
    if (typeof value === "string") return value;
    if (typeof value !== "object" || value === null) return undefined;
    const record: Record<string, unknown> = Object.fromEntries(Object.entries(value));
    return pick(record["."]) ?? pick(record["import"]) ?? pick(record["default"]) ?? pick(record["node"]);
  };
  const m = typeof manifest === "object" && manifest !== null ? Object.fromEntries(Object.entries(manifest)) : {};
  const entry = pick(m["exports"]) ?? pick(m["module"]) ?? pick(m["main"]) ?? "index.js";
  const path = resolve(pkgDir, entry);
  if (!path.startsWith(resolve(pkgDir))) throw pluginError(spec, "", "package entry points outside the package");
  return path;
}

async function run(command: string, args: string[], spec: string): Promise<void> {
  // Loaded on demand: only `providers add <npm package>` spawns anything.
  const { execFile } = await import("node:child_process");
  return new Promise((done, fail) => {
    execFile(command, args, { timeout: 300_000, maxBuffer: 16 * 1024 * 1024 }, (error, _stdout, stderr) => {
      if (error === null) return done();
      const line = String(stderr).split("\n").find((l) => /npm (error|ERR!)/.test(l)) ?? error.message.split("\n")[0];
      if (/npm (error|ERR!) code E404\b/.test(String(stderr))) return fail(new AuthsomeError("provider_not_found", `npm has no package "${spec}" (E404)`, { cause: error }));
      fail(pluginError(spec, "", `npm install failed (${line?.trim() ?? "unknown error"})`, error));
    });
  });
}
