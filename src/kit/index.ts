/**
 * Public entry `authsome-broker/kit` (JSR: `@authsome/broker/kit`): the plugin author's kit as a
 * library, so a third-party plugin's own test can run the conformance suite in-process
 * (`testPlugin(plugin)` on its default export, `testPluginSource("./acme.ts")` as `providers
 * test` loads it) and write the starter files `authsome providers init` writes.
 */
export {
  CHECK_NAMES,
  type CheckName,
  type CheckResult,
  type ConformanceOptions,
  type ConformanceReport,
  envCollisions,
  type EnvCollision,
  formatReport,
  testPlugin,
  testPluginSource,
} from "./conformance.ts";
export { initPlugin, type InitResult, pluginTemplate, testTemplate } from "./templates.ts";
export { definePlugin, type ProviderPlugin } from "../core/plugin.ts";
