/**
 * TypeScript type stripping for .ts provider plugins (sucrase). A module of its own, imported
 * lazily by plugin-module.ts, so the bundler gives sucrase a chunk that only `providers add` of
 * a TypeScript plugin loads. A static named import (not `await import("sucrase")`) because
 * sucrase is CommonJS: bundlers and runtimes expose its named exports reliably only this way.
 */
import { transform } from "sucrase";

/** Where a syntax error is, 1-based, when the parser says. */
export interface SyntaxPosition {
  line: number;
  column: number;
}

/** Removes TypeScript syntax, keeping ES modules and modern syntax as written (line numbers kept). */
export function stripTypes(code: string): string {
  return transform(code, { transforms: ["typescript"], disableESTransforms: true }).code;
}

/** The position of a sucrase syntax error, or undefined for any other error. */
export function syntaxErrorPosition(error: unknown): SyntaxPosition | undefined {
  const loc = typeof error === "object" && error !== null && "loc" in error ? error.loc : undefined;
  if (typeof loc !== "object" || loc === null || !("line" in loc) || !("column" in loc)) return undefined;
  // sucrase counts columns from 1 already (parser/traverser/base.js locationForIndex).
  return { line: Number(loc.line), column: Number(loc.column) };
}
