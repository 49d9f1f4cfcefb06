// Run by bin/authsome.mjs in a clone whose dist/ is missing: the published package ships dist/,
// and `npm install` in a clone builds nothing (a `prepare` script would make npm warn every
// consumer of the package about an install script). Builds once, then the CLI starts as usual.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
process.stderr.write("authsome: building dist/ (first run in this clone) ...\n");
const result = spawnSync("node", ["scripts/build.mjs"], { cwd: root, stdio: ["ignore", "ignore", "inherit"] });
if (result.status !== 0) {
  process.stderr.write("authsome: the build failed; run `npm run build` in the clone to see why\n");
  process.exit(result.status ?? 1);
}
