#!/usr/bin/env node
// Node entry: runs the bundled CLI (dist/, shipped in the package; built by `npm run build` in a clone).
// It exits only once stdout and stderr are drained, so a pipe gets the whole output.
import { existsSync } from "node:fs";

// A fresh clone has no dist/ until its first run builds it (scripts/build-once.mjs; not shipped).
if (!existsSync(new URL("../dist/cli.mjs", import.meta.url))) await import("../scripts/build-once.mjs");
const { exitWhenDrained, main } = await import("../dist/cli.mjs");

await exitWhenDrained(await main(process.argv.slice(2)));
