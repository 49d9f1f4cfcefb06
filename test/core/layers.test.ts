/**
 * One-way layers (issue 12 part 8): nothing under src/core/ imports src/flows/, src/server/,
 * src/proxy/, src/cli/ or src/intercept/; the flows and the form register into core instead
 * (src/core/flow-registry.ts, src/register.ts). The import graph is read from the files
 * themselves: static imports, re-exports, side-effect imports and dynamic `import("...")`.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { test } from "node:test";
import { repoRoot } from "../helpers/spawn-runtime.ts";

const FORBIDDEN = ["src/flows", "src/server", "src/proxy", "src/cli", "src/intercept"];

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (/\.(ts|mts|mjs|js)$/.test(name)) out.push(path);
  }
  return out;
}

/** Every module specifier a source text imports (comments stripped first, so prose does not count). */
export function importSpecifiers(text: string): string[] {
  const code = text.replaceAll(/\/\*[\s\S]*?\*\//g, "").replaceAll(/(^|[^:"'`])\/\/.*$/gm, "$1");
  const found: string[] = [];
  const patterns = [
    /\b(?:import|export)\s[^"'`;]*?\bfrom\s*["']([^"']+)["']/g,
    /\bimport\s*["']([^"']+)["']/g,
    /\bimport\s*\(\s*["'`]([^"'`]+)["'`]\s*\)/g,
  ];
  for (const pattern of patterns) for (const match of code.matchAll(pattern)) if (match[1] !== undefined) found.push(match[1]);
  return found;
}

/** The repo-relative targets of a file's relative imports that land in a forbidden layer. */
function violations(file: string, text: string): string[] {
  return importSpecifiers(text)
    .filter((spec) => spec.startsWith("."))
    .map((spec) => relative(repoRoot, resolve(dirname(file), spec)).replaceAll("\\", "/"))
    .filter((target) => FORBIDDEN.some((layer) => target === layer || target.startsWith(`${layer}/`)));
}

test("the import reader finds static, re-export, side-effect and dynamic imports, and skips comments", () => {
  const text = [
    'import { a } from "../flows/pkce.ts";',
    'import type { B } from "../server/app.ts";',
    'export { c } from "../proxy/relay.ts";',
    'import "../cli/main.ts";',
    'const m = await import("../intercept/index.ts");',
    '// import { no } from "../flows/comment.ts";',
    '/* import("../server/block.ts") */',
    'import { ok } from "./errors.ts";',
  ].join("\n");
  assert.deepEqual(importSpecifiers(text).sort(), ["../cli/main.ts", "../flows/pkce.ts", "../intercept/index.ts", "../proxy/relay.ts", "../server/app.ts", "./errors.ts"]);
  const fake = join(repoRoot, "src/core/fake.ts");
  assert.equal(violations(fake, text).length, 5, "a core file importing those layers is caught");
});

test("src/core imports nothing from src/flows, src/server, src/proxy, src/cli or src/intercept", () => {
  const files = sourceFiles(join(repoRoot, "src/core"));
  assert.ok(files.length > 20, "the core sources were found");
  const bad = files.flatMap((file) => violations(file, readFileSync(file, "utf8")).map((target) => `${relative(repoRoot, file)} -> ${target}`));
  assert.deepEqual(bad, []);
});

test("src/flows imports nothing from src/server, src/proxy, src/cli or src/intercept (the form is registered)", () => {
  const files = sourceFiles(join(repoRoot, "src/flows"));
  const bad = files.flatMap((file) => violations(file, readFileSync(file, "utf8")).filter((target) => !target.startsWith("src/flows")).map((target) => `${relative(repoRoot, file)} -> ${target}`));
  assert.deepEqual(bad, []);
});
