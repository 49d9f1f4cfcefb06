// Bundles the TypeScript sources for Node (Deno runs src/ directly). One bundle with code
// splitting keeps the CLI's start-up to a few files, and lazy imports (plugins, flows, proxy)
// out of the hot path.
import { build } from "esbuild";
import { rename, rm } from "node:fs/promises";

const entryPoints = {
  cli: "src/cli/main.ts",
  index: "src/index.ts",
  plugin: "src/plugin.ts",
  intercept: "src/intercept/index.ts",
};
// Build beside dist/ and swap it in, so a CLI started by a test running meanwhile finds a whole
// dist/ (old or new), not a half-written one.
const outdir = `dist.tmp-${process.pid}`;
await rm(outdir, { recursive: true, force: true });
await build({
  entryPoints,
  outdir,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  outExtension: { ".js": ".mjs" },
  chunkNames: "chunks/[name]-[hash]",
  sourcemap: "linked",
  legalComments: "none",
  logLevel: "warning",
  // Bundled CommonJS dependencies call require(); give them Node's.
  banner: { js: "import { createRequire as __authsomeRequire } from 'node:module'; const require = __authsomeRequire(import.meta.url);" },
  // Heavy optional dependencies stay external: loaded only when the feature is used.
  external: ["ioredis", "oidc-provider", "hash-wasm"],
});
await rm(`dist.old-${process.pid}`, { recursive: true, force: true });
await rename("dist", `dist.old-${process.pid}`).catch(() => {});
await rename(outdir, "dist");
await rm(`dist.old-${process.pid}`, { recursive: true, force: true });
