/**
 * The bundled catalogue runs the same conformance suite as a third-party plugin
 * (`authsome providers test`): every plugin in plugins/index.ts, each check, login and an
 * injected request through the egress pipeline against the local stand-in included; and no env
 * name is mapped by two providers (a run's child would get only one of them).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { bundledPlugins } from "../../plugins/index.ts";
import type { ProviderPlugin } from "../../src/core/plugin.ts";
import { envCollisions, formatReport, testPlugin } from "../../src/kit/conformance.ts";

const names = Object.keys(bundledPlugins).sort();

describe("every bundled plugin passes the conformance suite", () => {
  for (const name of names) {
    test(name, async () => {
      const load = bundledPlugins[name];
      assert.ok(load !== undefined);
      const report = await testPlugin((await load()).default, `plugins/${name}.ts`);
      assert.equal(report.plugin, name);
      assert.ok(report.ok, formatReport(report));
      assert.deepEqual(report.checks.map((c) => c.check), ["schema", "rule-safety", "placeholders", "env-names", "login", "injection"]);
    });
  }
});

test("no env name is mapped by two bundled providers", async () => {
  const plugins: ProviderPlugin[] = [];
  for (const name of names) plugins.push((await (bundledPlugins[name] ?? (() => Promise.reject(new Error(name))))()).default);
  const collisions = envCollisions(plugins);
  assert.deepEqual(collisions, [], collisions.map((c) => `${c.name}: ${c.providers.join(", ")}`).join("\n"));
});
