#!/usr/bin/env node
// Node entry: runs the bundled CLI (built by `npm install` / `npm run build`).
import { main } from "../dist/cli.mjs";

const code = await main(process.argv.slice(2));
process.exit(code);
