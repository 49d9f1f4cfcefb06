// Every benchmark in turn, each writing its section of docs/benchmarks.md: builds dist/ once,
// then bench/cli-start, bench/package (the packed tarball as a consumer installs it), bench/proxy,
// bench/tls, bench/refresh, bench/intercept and bench/sigv4 (about 3-4 minutes on 2 cores;
// mitmproxy rows need `mitmdump`: `apt-get install -y mitmproxy`).
//   node bench/all.mjs [--quick]
import { spawnSync } from "node:child_process";

const quick = process.argv.includes("--quick") ? ["--quick"] : [];
const steps = [
  [process.execPath, ["scripts/build.mjs"]],
  [process.execPath, ["bench/cli-start.mjs", quick.length > 0 ? "5" : "15"]],
  [process.execPath, ["bench/package.mjs", quick.length > 0 ? "5" : "21", "--no-build"]],
  [process.execPath, ["bench/proxy.mjs", "--no-build", ...quick]],
  [process.execPath, ["--import", "tsx", "bench/tls.mjs", "--no-build", ...quick]],
  [process.execPath, ["--import", "tsx", "bench/refresh.mjs", "--no-build", ...quick]],
  [process.execPath, ["bench/intercept.mjs", "--no-build", ...quick]],
  [process.execPath, ["bench/sigv4.mjs", "--no-build", ...quick]],
];
let failed = 0;
for (const [command, args] of steps) {
  console.error(`\n=== ${args.join(" ")}`);
  const r = spawnSync(command, args, { stdio: "inherit" });
  if (r.status !== 0) failed += 1;
}
process.exit(failed > 0 ? 1 : 0);
