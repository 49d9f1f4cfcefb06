/**
 * The provider registry: bundled plugins (plugins/, imported lazily) plus installed ones
 * (`<home>/plugins/<name>.json`).
 *
 * `install` loads a source once (JSON or JSONC, authsome-v1 JSON, a .ts/.js module compiled by
 * plugin-module.ts, or an npm package), validates it, and stores the validated plugin as JSON.
 * So no third-party code and no compiler run at CLI start, and a module's `authsome/plugin`
 * import never has to resolve again. A bad installed
 * file is reported by `list()` (file and field) without hiding the others.
 *
 * With a shared (Redis) store, `install` writes to the store instead and every machine sees the
 * plugin (shared-plugins.ts); the store's plugin wins over a home file of the same name.
 */
import { readFileSync, statSync } from "node:fs";
import { chmod, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { bundledPlugins } from "../../plugins/index.ts";
import { AuthsomeError } from "./errors.ts";
import { ensurePrivateDir, writeFileAtomic } from "./files.ts";
import type { ProviderPlugin } from "./plugin.ts";
import { closeNames, MAX_PLUGIN_BYTES, PLUGIN_NAME_PATTERN, pluginError } from "./plugin-schema.ts";
import { prepareRegexEngine } from "./rule-regex.ts";
import type { SealKeys, SharedPlugins } from "./shared-plugins.ts";
// The JSON plugin format, plugin sources (files, npm, JSR) and the store's shared plugins are
// imported when first needed: a lookup of a bundled provider (every `get`) uses none of them,
// and they are ~20 KB of the CLI's start-up with the valibot schemas they build on load.
const pluginV1 = () => import("./plugin-v1.ts");
const pluginSource = () => import("./plugin-source.ts");
const sharedPluginsModule = () => import("./shared-plugins.ts");
import type { Store } from "./storage/index.ts";

/** Where a listed plugin comes from. */
export type PluginSource = "bundled" | "installed" | "shared";

/** Options for {@link createRegistry}. */
export interface RegistryOptions {
  /** The authsome home; installed plugins live in `<home>/plugins/`. */
  home: string;
  /** Bundled plugin map; default plugins/index.ts (tests pass their own). */
  bundled?: Record<string, () => Promise<{ default: ProviderPlugin }>>;
  /** The store, opened on first use: a shared (Redis) one holds the fleet's plugins. */
  store?: () => Promise<Store>;
  /** The keys that seal plugin records in a shared store (shared-plugins.ts); required with `store`. */
  sealKeys?: () => Promise<SealKeys>;
}

/** Result of {@link Registry.list}. */
export interface PluginList {
  /** Valid plugins, sorted by name; an installed plugin replaces a bundled one of its name. */
  plugins: ProviderPlugin[];
  /** Where each listed plugin comes from, by name. */
  sources: Record<string, PluginSource>;
  /** Plugins that failed to load: the file (or bundled module) and what is wrong. */
  errors: { source: string; message: string }[];
  /** Home plugin files that differ from the shared store's plugin of their name (the store's is used). */
  shadowed: { source: string; message: string }[];
}

/** Options for {@link Registry.install}. */
export interface InstallOptions {
  /** Replace an installed plugin, or shadow a bundled one, of the same name. */
  force?: boolean;
}

/** Finds, installs and removes provider plugins. */
export interface Registry {
  /** Every provider name, without importing any plugin. */
  names(): Promise<string[]>;
  list(): Promise<PluginList>;
  /** One plugin; imports only that one. Throws provider_not_found or plugin_invalid. */
  get(name: string): Promise<ProviderPlugin>;
  /** Installs from a .json/.jsonc file, a .ts/.mts/.js/.mjs/.cjs module, an npm package spec or a `jsr:` spec. */
  install(source: string, options?: InstallOptions): Promise<ProviderPlugin>;
  /** Removes an installed plugin (bundled ones cannot be removed). */
  remove(name: string): Promise<void>;
}

/** Creates a registry over `<home>/plugins/` and the bundled plugins. */
export function createRegistry(options: RegistryOptions): Registry {
  const dir = join(options.home, "plugins");
  const bundled = options.bundled ?? bundledPlugins;
  const fileOf = (name: string): string => join(dir, `${name}.json`);
  let shared: Promise<SharedPlugins | null> | undefined;
  const openStore = options.store;
  const sharedPlugins = (): Promise<SharedPlugins | null> => (openStore === undefined ? Promise.resolve(null) : (shared ??= _openShared(openStore, options.sealKeys)));
  const sharedNames = async (): Promise<string[]> => (await (await sharedPlugins())?.names()) ?? [];
  const validNames = (names: string[]): string[] => names.filter((n) => PLUGIN_NAME_PATTERN.test(n));

  async function installedNames(): Promise<string[]> {
    try {
      const files = await readdir(dir);
      return files.filter((f) => f.endsWith(".json") && !f.startsWith(".")).map((f) => f.slice(0, -5));
    } catch (error) {
      if (isNotFound(error)) return [];
      throw new AuthsomeError("storage_failed", `cannot read ${dir}`, { cause: error });
    }
  }

  async function readInstalled(name: string): Promise<ProviderPlugin | null> {
    const file = fileOf(name);
    let text: string;
    try {
      // A FIFO would block the read forever, and a huge file is no plugin: both refused first.
      // Synchronous, as the store's reads are (storage/fs-driver.ts): most lookups find no file.
      const found = statSync(file);
      if (!found.isFile()) throw pluginError(file, "", "not a regular file");
      if (found.size > MAX_PLUGIN_BYTES) throw pluginError(file, "", `larger than ${MAX_PLUGIN_BYTES / 1024} KiB`);
      text = readFileSync(file, "utf8");
    } catch (error) {
      if (isNotFound(error)) return null;
      if (error instanceof AuthsomeError) throw error;
      throw new AuthsomeError("storage_failed", `cannot read ${file}`, { cause: error });
    }
    const plugin = await _fromJson(text, file);
    if (plugin.name !== name) throw pluginError(file, "name", `"${plugin.name}" does not match the file name`);
    return plugin;
  }

  async function readBundled(name: string): Promise<ProviderPlugin | null> {
    const load = Object.hasOwn(bundled, name) ? bundled[name] : undefined;
    if (load === undefined) return null;
    const plugin = (await load()).default;
    // Our own catalogue is checked at build time and by test/plugins/bundled-trusted.test.ts
    // (the schema's output equals each plugin), so it is not parsed again at every start (1-4 ms
    // of a `get`, most of `list`'s growth with the catalogue); an injected map is validated.
    if (options.bundled === undefined) return _trusted(plugin);
    return await (await pluginSource()).validatedPlugin(plugin, `plugins/${name}.ts`);
  }

  async function readShared(name: string): Promise<ProviderPlugin | null> {
    return (await (await sharedPlugins())?.read(name))?.plugin ?? null;
  }

  async function names(): Promise<string[]> {
    const [installed, fleet] = await Promise.all([installedNames(), sharedNames()]);
    return [...new Set([...Object.keys(bundled), ...installed, ...validNames(fleet)])].sort();
  }

  async function list(): Promise<PluginList> {
    const found = new Map<string, ProviderPlugin>();
    const sources: Record<string, PluginSource> = {};
    const errors: PluginList["errors"] = [];
    const [installed, fleet, store] = await Promise.all([installedNames(), sharedNames(), sharedPlugins()]);
    const attempt = async (name: string, source: "installed" | "bundled", where: string): Promise<void> => {
      try {
        const plugin = source === "installed" ? await readInstalled(name) : await readBundled(name);
        if (plugin === null) return;
        found.set(name, plugin);
        sources[name] = source;
      } catch (error) {
        errors.push({ source: where, message: error instanceof Error ? error.message : String(error) });
      }
    };
    const inStore = new Set(fleet);
    for (const { name, plugin, error } of (await store?.readMany(fleet)) ?? []) {
      if (plugin !== undefined) {
        found.set(name, plugin.plugin);
        sources[name] = "shared";
      } else if (error !== undefined) errors.push({ source: store?.locate(name) ?? name, message: error instanceof Error ? error.message : String(error) });
    }
    await Promise.all(installed.filter((n) => !inStore.has(n)).map((n) => attempt(n, "installed", fileOf(n))));
    // A broken installed (or shared) plugin still shadows its bundled namesake: never a silent fallback.
    const shadowed = new Set([...installed, ...fleet]);
    const unshadowed = Object.keys(bundled).filter((n) => !shadowed.has(n));
    await Promise.all(unshadowed.map((n) => attempt(n, "bundled", `plugins/${n}.ts`)));
    const plugins = [...found.values()].sort((a, b) => a.name.localeCompare(b.name));
    const inBoth = installed.filter((n) => inStore.has(n));
    const shadowedFiles = inBoth.length === 0 ? [] : await (await sharedPluginsModule()).shadowedFiles(inBoth, found, readInstalled, fileOf);
    return { plugins, sources, errors, shadowed: shadowedFiles };
  }

  async function get(name: string): Promise<ProviderPlugin> {
    const plugin = PLUGIN_NAME_PATTERN.test(name) ? ((await readShared(name)) ?? (await readInstalled(name)) ?? (await readBundled(name))) : null;
    if (plugin !== null) return plugin;
    const close = closeNames(name, await names());
    const suffix = close.length > 0 ? ` (did you mean ${close.map((c) => `"${c}"`).join(", ")}?)` : "";
    throw new AuthsomeError("provider_not_found", `unknown provider "${name}"${suffix}`, {
      hint: "run `authsome providers list` to see every provider",
    });
  }

  async function install(source: string, installOptions: InstallOptions = {}): Promise<ProviderPlugin> {
    // `providers add stripe`: bundled already, so no npm lookup; --force looks for the
    // convention's authsome-plugin-stripe only (the npm package "stripe" is Stripe's SDK).
    const { isBareName, loadPluginSource, PLUGIN_PACKAGE_PREFIX } = await pluginSource();
    const bundledName = isBareName(source) && Object.hasOwn(bundled, source);
    if (bundledName && installOptions.force !== true) {
      throw new AuthsomeError("provider_exists", `provider "${source}" is already bundled`, {
        hint: `log in with \`authsome login ${source}\`; --force replaces it with the npm package ${PLUGIN_PACKAGE_PREFIX}${source}`,
      });
    }
    const { plugin, origin, moduleSource } = await loadPluginSource(source, options.home, { conventionOnly: bundledName });
    const store = await sharedPlugins();
    const checkAndWrite = async (): Promise<ProviderPlugin> => {
      const [installed, fleet] = await Promise.all([installedNames(), sharedNames()]);
      const existing = fleet.includes(plugin.name) ? "in the shared store" : installed.includes(plugin.name) ? "installed" : Object.hasOwn(bundled, plugin.name) ? "bundled" : null;
      if (existing !== null && installOptions.force !== true) {
        throw new AuthsomeError("provider_exists", `provider "${plugin.name}" is already ${existing}`, {
          hint: existing === "bundled" ? "use --force to replace the bundled provider" : "use --force to replace it",
        });
      }
      const definition = { $source: origin, ...plugin };
      if (store !== null) await store.write(plugin.name, definition, moduleSource);
      else await writeAtomic(dir, `${plugin.name}.json`, `${JSON.stringify(definition, null, 2)}\n`);
      return plugin;
    };
    // Two machines adding one name at once: one adds it, the other is told it exists.
    return store === null ? checkAndWrite() : store.withLock(checkAndWrite);
  }

  async function remove(name: string): Promise<void> {
    if (PLUGIN_NAME_PATTERN.test(name)) {
      // Fleet-wide: the store's record, and this home's file (else it would take over again).
      const fromStore = (await (await sharedPlugins())?.remove(name)) ?? false;
      try {
        await rm(fileOf(name));
        return;
      } catch (error) {
        if (!isNotFound(error)) throw new AuthsomeError("storage_failed", `cannot remove ${fileOf(name)}`, { cause: error });
      }
      if (fromStore) return;
      if (Object.hasOwn(bundled, name)) {
        throw new AuthsomeError("usage", `provider "${name}" is bundled and cannot be removed`);
      }
    }
    await get(name); // throws provider_not_found with suggestions
  }

  return { names, list, get, install, remove };
}

/** The store's shared plugins; only a Redis store has them, so only then is their module loaded. */
async function _openShared(open: () => Promise<Store>, sealKeys: (() => Promise<SealKeys>) | undefined): Promise<SharedPlugins | null> {
  if ((await open()).kind !== "redis") return null;
  return (await sharedPluginsModule()).openSharedPlugins(open, sealKeys);
}

// `regex:` rules compile on RE2, loaded only for plugins that have one (src/core/rule-regex.ts).
async function _fromJson(text: string, source: string): Promise<ProviderPlugin> {
  const [{ loadPluginJson }] = await Promise.all([pluginV1(), prepareRegexEngine(text)]);
  return loadPluginJson(text, source);
}

/** A bundled plugin as it is: only the regex engine its rules may need is loaded. */
async function _trusted(plugin: ProviderPlugin): Promise<ProviderPlugin> {
  await prepareRegexEngine(plugin);
  return plugin;
}

/** Writes `<dir>/<file>` atomically (temp + fsync + rename), file 0600 in a 0700 directory. */
async function writeAtomic(dir: string, file: string, text: string): Promise<void> {
  try {
    await ensurePrivateDir(dir);
    await chmod(dir, 0o700);
    await writeFileAtomic(join(dir, file), text, 0o600);
  } catch (error) {
    throw new AuthsomeError("storage_failed", `cannot write ${join(dir, file)}`, { cause: error });
  }
}

function isNotFound(error: unknown): boolean {
  return typeof error === "object" && error !== null && "code" in error && error.code === "ENOENT";
}
