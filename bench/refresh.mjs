// bench/refresh: N processes (`authsome get <p> --field access_token`) ask for the same OAuth
// access token at once, just after it expired, against a local authorization server
// (oidc-provider through the OAuth tests' helper: refresh tokens rotate, and a reused one
// revokes the grant). Reports wall time and how many token requests the server saw; beside
// it, the same N processes reading an API key (no refresh) show what N processes cost anyway.
//   node --import tsx bench/refresh.mjs [--quick] [--no-build]
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createAuthService } from "../src/core/auth-service.ts";
import { TEST_CLIENTS } from "../test/helpers/oidc-provider-app.ts";
import { browserEnv, freePort, startOidcServer, writeTestPlugin } from "../test/helpers/oidc-server.ts";
import { cli, cliAsync, setupHome, stopAll, watchdog } from "./procs.mjs";
import { machineFacts, writeSection } from "./report.mjs";

const argv = process.argv.slice(2);
const quick = argv.includes("--quick");
const COUNTS = quick ? [1, 10, 20] : [1, 10, 20, 50];
/** Lifetime of the tokens the server issues: each round waits for the current one to expire. */
const TTL_SECONDS = 3;
watchdog((quick ? 3 : 6) * 60_000, "bench/refresh");

if (!argv.includes("--no-build")) {
  const build = spawnSync(process.execPath, ["scripts/build.mjs"], { stdio: "inherit" });
  if (build.status !== 0) process.exit(1);
}

/** Runs `authsome <args>` in `n` processes started together; wall ms and their outputs. */
async function together(n, env, args) {
  const start = process.hrtime.bigint();
  const runs = await Promise.all(Array.from({ length: n }, () => new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["bin/authsome.mjs", ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout: stdout.trim(), stderr }));
  })));
  const wall = Number(process.hrtime.bigint() - start) / 1e6;
  const failed = runs.find((r) => r.code !== 0);
  if (failed) throw new Error(`authsome ${args.join(" ")} failed (${failed.code}): ${failed.stderr}`);
  return { wall, outputs: new Set(runs.map((r) => r.stdout)) };
}

const dir = mkdtempSync(join(tmpdir(), "authsome-bench-refresh-"));
const server = await startOidcServer({ settings: { accessTokenTtl: TTL_SECONDS } });
const rows = [];
try {
  const home = join(dir, "home");
  mkdirSync(home);
  const env = { ...setupHome(home, ["api.bench.test"]), AUTHSOME_REFRESH_MARGIN: "0" };
  const plugin = await writeTestPlugin(home, server.issuer, "oidc", { flows: ["pkce"], redirectUri: `http://127.0.0.1:${await freePort()}/callback` });
  cli(env, ["providers", "add", plugin]);
  await cliAsync({ ...env, ...browserEnv(join(dir, "browser.log")) }, ["login", "oidc", "--client-id", TEST_CLIENTS.public]);
  const service = await createAuthService({ home });
  const vault = await service.core.vault();
  const refreshes = async () => (await server.stats()).tokenRequests["refresh_token"] ?? 0;
  for (const n of COUNTS) {
    // Wait (polling the stored expiry, which reading does not refresh) for the token to expire.
    const expiresAt = Date.parse((await vault.getMeta("oidc", "default"))?.expiresAt ?? "");
    while (Date.now() <= expiresAt + 50) await new Promise((r) => setTimeout(r, 50));
    const before = await refreshes();
    const refresh = await together(n, env, ["get", "oidc", "--field", "access_token", "--show-secret"]);
    const requests = (await refreshes()) - before;
    const plain = await together(n, env, ["get", "benchco", "--field", "api_key", "--show-secret"]);
    rows.push({ n, wall: refresh.wall, plainWall: plain.wall, requests, same: refresh.outputs.size === 1 });
    console.error(`${n} processes: ${refresh.wall.toFixed(0)} ms (API key: ${plain.wall.toFixed(0)} ms), ${requests} token request(s), ${refresh.outputs.size} distinct token(s)`);
  }
  const grant = (await vault.getMeta("oidc", "default"))?.status ?? "missing";
  await service.close();
  report(grant);
} finally {
  await stopAll();
  await server.close();
  rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
}

function report(grantStatus) {
  const ok = rows.every((r) => r.requests === 1 && r.same);
  const text = [
    `Command: \`node --import tsx bench/refresh.mjs${quick ? " --quick" : ""}\` (${machineFacts()}).`,
    "",
    `N processes \`authsome get oidc --field access_token --show-secret\` started together just after the stored access token expired (\`AUTHSOME_REFRESH_MARGIN=0\`, tokens live ${TTL_SECONDS} s); the authorization server is oidc-provider (test/helpers/oidc-server.ts) with rotating refresh tokens. Beside it, the same N processes reading an API key, which needs no refresh.`,
    "",
    "| processes | wall, refresh due | wall, API key (no refresh) | token requests the server saw | every process got the same new token |",
    "|---|---|---|---|---|",
    ...rows.map((r) => `| ${r.n} | ${r.wall.toFixed(0)} ms | ${r.plainWall.toFixed(0)} ms | **${r.requests}** | ${r.same ? "yes" : "**no**"} |`),
    "",
    `Target: exactly one token request for N processes: ${ok ? "met" : "**missed**"}. The connection is \`${grantStatus}\` afterwards (a second use of a rotated refresh token would have revoked the grant).`,
    "",
    `Reading: when many agents find the same token expired at once, one of them refreshes it and the others wait for that refresh and use its result; the provider sees one request, so a provider that rotates refresh tokens never sees one reused. The wait costs ${rows.length ? `${(rows.at(-1).wall - rows.at(-1).plainWall).toFixed(0)} ms for ${rows.at(-1).n} processes` : "little"} over reading a key that needs no refresh.`,
  ].join("\n");
  console.log(text);
  writeSection("refresh", text);
  if (!ok) process.exitCode = 1;
}
