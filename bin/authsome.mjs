#!/usr/bin/env node
// Node entry: runs the bundled CLI (dist/, shipped in the package; built by `npm run build` in a clone).
// It exits only once stdout and stderr are drained, so a pipe gets the whole output.
import module from "node:module";

// process.getBuiltinModule (Node 20.16+) skips the ES module facade of node:fs, whose build
// reads fs's lazy `ReadStream` getter and so loads every stream module (~1.7 ms); the bundled
// hot path takes its builtins the same way (src/runtime/code-cache.ts).
const { existsSync } = process.getBuiltinModule?.("node:fs") ?? module.createRequire(import.meta.url)("node:fs");

// Node 22.1+ can keep V8's compiled code of our modules between runs (compiling the ~30 modules
// a `get` loads is a large part of its cold start); Node 20 has no such cache and skips this.
module.enableCompileCache?.();

// A fresh clone has no dist/ until its first run builds it (scripts/build-once.mjs; not shipped).
if (!existsSync(new URL("../dist/cli.mjs", import.meta.url))) await import("../scripts/build-once.mjs");
const { exitWhenDrained, main } = await import("../dist/cli.mjs");

await exitWhenDrained(await main(process.argv.slice(2)));
