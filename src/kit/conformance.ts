/**
 * The shared conformance suite for provider plugins (issue 13): one function that every plugin
 * runs, a third-party file or package (`authsome providers test FILE|PACKAGE`, and the test
 * `authsome providers init` writes) and every bundled plugin (test/plugins/conformance.test.ts)
 * alike, as unstorage's `testDriver` is run by every driver.
 *
 * Checks, in order (checks.ts, live.ts): `schema` (fields and types), `rule-safety` (host rules
 * no broader than the provider's own hosts, src/core/rule-breadth.ts), `placeholders` (format
 * fields a login fills; the run placeholder fits the key pattern), `env-names` (UPPER_SNAKE,
 * none of authsome's own, none a bundled provider maps), `login` (the plugin's first flow against a local
 * stand-in authorization server) and `injection` (a request to each declared host through the
 * real egress pipeline carries the credential where the rule says, and an undeclared host gets
 * nothing).
 */
import "../register.ts";
import { existsSync } from "node:fs";
import { bundledPlugins } from "../../plugins/index.ts";
import type { ProviderPlugin } from "../core/plugin.ts";
import { resolveContext } from "../core/context.ts";
import { loadPluginSource } from "../core/plugin-source.ts";
import { envNamesCheck, loadedChecks, loadFailure, placeholderCheck, type CheckResult, validateCandidate } from "./checks.ts";
import { liveChecks } from "./live.ts";

export { CHECK_NAMES, envCollisions, type CheckName, type CheckResult, type EnvCollision } from "./checks.ts";

/** The outcome of the suite for one plugin. */
export interface ConformanceReport {
  /** The plugin's name, or null when it did not load. */
  plugin: string | null;
  /** The file, package or module it came from. */
  source: string;
  /** True when no check failed (skipped checks do not fail). */
  ok: boolean;
  checks: CheckResult[];
}

/** Options for the suite. */
export interface ConformanceOptions {
  /** Run `login` and `injection` (default true); false for the static checks only. */
  live?: boolean;
}

/** Runs the suite on a plugin object (a module's default export, not yet validated). */
export async function testPlugin(input: unknown, source: string, options: ConformanceOptions = {}): Promise<ConformanceReport> {
  let plugin: ProviderPlugin;
  try {
    plugin = await validateCandidate(input, source);
  } catch (error) {
    return _report(null, source, loadFailure(error));
  }
  return _run(plugin, source, options);
}

/**
 * Runs the suite on a plugin file (.json, .jsonc, .ts, .js, ...), an npm or `jsr:` package spec,
 * loaded as `providers add` loads it (module plugins in a child process that may not read the
 * home), or a bundled provider's name.
 */
export async function testPluginSource(source: string, options: ConformanceOptions = {}): Promise<ConformanceReport> {
  // A bundled provider's name (and no file of that name here): its module, as the catalogue test runs it.
  const bundled = Object.hasOwn(bundledPlugins, source) && !existsSync(source) ? bundledPlugins[source] : undefined;
  if (bundled !== undefined) return testPlugin((await bundled()).default, `plugins/${source}.ts`, options);
  let plugin: ProviderPlugin;
  try {
    plugin = (await loadPluginSource(source, resolveContext().home)).plugin;
  } catch (error) {
    return _report(null, source, loadFailure(error));
  }
  // A third-party plugin's env names must not be ones a bundled provider maps (the catalogue
  // test checks the bundled ones among themselves).
  const others = await Promise.all(Object.values(bundledPlugins).map(async (load) => (await load()).default));
  return _run(plugin, source, options, others);
}

async function _run(plugin: ProviderPlugin, source: string, options: ConformanceOptions, others: ProviderPlugin[] = []): Promise<ConformanceReport> {
  const checks = [...loadedChecks(plugin), await placeholderCheck(plugin), envNamesCheck(plugin, others)];
  if (options.live !== false) {
    const failed = checks.some((c) => !c.ok);
    const live = failed ? [] : await liveChecks(plugin);
    checks.push(...(failed ? ["login", "injection"].map((check) => ({ check: check as "login" | "injection", ok: false, skipped: true, message: "not run: a static check failed" })) : live));
  }
  return _report(plugin.name, source, checks);
}

function _report(plugin: string | null, source: string, checks: CheckResult[]): ConformanceReport {
  return { plugin, source, ok: checks.every((c) => c.ok || c.skipped === true), checks };
}

/** The report for people: one line per check, `ok`/`FAIL`/`skip`, then the verdict. */
export function formatReport(report: ConformanceReport): string {
  const lines = report.checks.map((c) => `${c.skipped === true ? "skip" : c.ok ? "ok  " : "FAIL"} ${c.check.padEnd(12)} ${c.message}`);
  const failed = report.checks.filter((c) => !c.ok && c.skipped !== true).map((c) => c.check);
  const name = report.plugin ?? report.source;
  lines.push(failed.length === 0 ? `${name}: all checks passed` : `${name}: failed ${failed.join(", ")}`);
  return lines.join("\n");
}
