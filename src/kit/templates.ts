/**
 * What `authsome providers init NAME` writes: NAME.ts, a TypeScript plugin that passes the
 * conformance suite as written (an API-key provider on a made-up `.example` host, to be edited),
 * and NAME.test.ts, a node:test file that runs the suite on it through the CLI, so the author's
 * own test runner (Deno, or Node with a TypeScript loader) keeps the plugin honest.
 */
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { AuthsomeError } from "../core/errors.ts";
import { PLUGIN_NAME_PATTERN } from "../core/plugin-schema.ts";

/** The files `init` wrote. */
export interface InitResult {
  plugin: string;
  test: string;
}

/** Writes NAME.ts and NAME.test.ts into `dir`; refuses to overwrite either (provider_exists) unless `force`. */
export async function initPlugin(name: string, dir: string, force = false): Promise<InitResult> {
  if (!PLUGIN_NAME_PATTERN.test(name)) {
    throw new AuthsomeError("usage", `"${name}" is not a provider name: use lower-case letters, digits, "-" and "_" (up to 64)`);
  }
  const target = resolve(dir);
  const files = { plugin: join(target, `${name}.ts`), test: join(target, `${name}.test.ts`) };
  const existing = Object.values(files).find((f) => existsSync(f));
  if (existing !== undefined && !force) throw new AuthsomeError("provider_exists", `${existing} exists`, { hint: "use --force to overwrite it" });
  await mkdir(target, { recursive: true });
  await writeFile(files.plugin, pluginTemplate(name));
  await writeFile(files.test, testTemplate(name));
  return files;
}

/** `acme-crm` -> `ACME_CRM`, `Acme Crm`. */
function _names(name: string): { upper: string; display: string } {
  const words = name.split(/[-_]+/).filter((w) => w !== "");
  return { upper: words.join("_").toUpperCase(), display: words.map((w) => w[0]?.toUpperCase() + w.slice(1)).join(" ") };
}

/** The plugin template. */
export function pluginTemplate(name: string): string {
  const { upper, display } = _names(name);
  const prefix = upper.toLowerCase();
  return `// ${display}: an authsome provider plugin (docs: https://github.com/authsome-dev/authsome/blob/main/docs/plugins.md).
// Edit the hosts, the header and the key pattern to the provider's own API documentation, then
// check it with \`authsome providers test ./${name}.ts\` and install it with
// \`authsome providers add ./${name}.ts\` (or publish it as the npm package authsome-plugin-${name}).
import { definePlugin } from "authsome/plugin";

export default definePlugin({
  name: ${JSON.stringify(name)},
  displayName: ${JSON.stringify(display)},
  authType: "api_key",
  // Where the key goes: only requests to these hosts get it (no scheme = HTTPS only).
  inject: [{ host: "api.${name}.example", name: "Authorization", format: "Bearer {token}" }],
  apiKey: {
    // The shape of a valid key (RE2 syntax, anchored); placeholders for \`authsome run\` follow it.
    pattern: "^${prefix}_[A-Za-z0-9]{32}$",
    hint: "${display} keys start with ${prefix}_ followed by 32 letters or digits",
    keyUrl: "https://${name}.example/settings/api-keys",
  },
  // The variables \`authsome export\` prints and \`authsome run\` fills with placeholders.
  env: { ${upper}_API_KEY: "api_key" },
  docsUrl: "https://${name}.example/docs/authentication",
});
`;
}

/** The test template: node:test, runs `authsome providers test` on the plugin beside it. */
export function testTemplate(name: string): string {
  return `// Runs authsome's conformance suite on ${name}.ts: \`deno test -A ${name}.test.ts\`, or
// \`node --test ${name}.test.ts\` on Node 23.6+ (\`node --import tsx --test\` before). authsome is
// the \`authsome\` on PATH (npx, npm scripts), or the command in AUTHSOME_BIN.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const plugin = fileURLToPath(new URL("./${name}.ts", import.meta.url));
const [command = "authsome", ...prefix] = (process.env.AUTHSOME_BIN ?? "authsome").split(" ");

test("${name} passes authsome's conformance suite", async () => {
  const stdout = await new Promise<string>((resolve) => {
    execFile(command, [...prefix, "providers", "test", plugin, "--json"], { timeout: 120_000 }, (_error, out) => resolve(String(out)));
  });
  const report = JSON.parse(stdout) as { ok: boolean; checks: { check: string; ok: boolean; skipped?: boolean; message: string }[] };
  const failed = report.checks.filter((c) => !c.ok && c.skipped !== true);
  assert.deepEqual(failed, [], failed.map((c) => \`\${c.check}: \${c.message}\`).join("\\n"));
  assert.equal(report.ok, true);
});
`;
}
