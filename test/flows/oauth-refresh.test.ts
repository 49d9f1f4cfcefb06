/**
 * Refresh under concurrency against a real authorization server that rotates refresh tokens
 * and revokes the whole grant when a refresh token is used twice (reuse detection). 20 CLI
 * processes read an expired token at once: exactly one refresh may reach the server.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { createAuthService } from "../../src/index.ts";
import { runCli, tempHome } from "../helpers/cli.ts";
import { browserEnv, freePort, startOidcServer, type TestOidcServer, writeTestPlugin } from "../helpers/oidc-server.ts";
import { TEST_CLIENTS } from "../helpers/oidc-provider-app.ts";

let server: TestOidcServer;
let home: Awaited<ReturnType<typeof tempHome>>;
const cli = (args: string[], extra: Record<string, string> = {}) => runCli(args, { env: { ...home.env, ...extra } });
const refreshes = async () => (await server.stats()).tokenRequests["refresh_token"] ?? 0;

async function secrets(extra: Record<string, string> = {}): Promise<{ expires_at: string; status: string; secrets: Record<string, string> }> {
  const r = await cli(["get", "oidc", "--json", "--show-secret"], extra);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as { expires_at: string; status: string; secrets: Record<string, string> };
}

/** Polls the clock (no fixed sleep) until the stored access token has expired. */
async function untilExpired(expiresAt: string): Promise<void> {
  while (Date.now() <= Date.parse(expiresAt) + 50) await new Promise((resolve) => setTimeout(resolve, 50));
}

before(async () => {
  server = await startOidcServer({ settings: { accessTokenTtl: 2 } });
  home = await tempHome();
  const file = await writeTestPlugin(home.home, server.issuer, "oidc", { flows: ["pkce"], redirectUri: `http://127.0.0.1:${await freePort()}/callback` });
  assert.equal((await cli(["providers", "add", file])).code, 0);
  const r = await cli(["login", "oidc", "--client-id", TEST_CLIENTS.public], browserEnv(join(home.home, "browser.log")));
  assert.equal(r.code, 0, r.stderr);
});
after(async () => {
  await server.close();
  await home.cleanup();
});

test("20 concurrent `get` processes just after expiry: one refresh, every one prints the active token, the grant survives", async () => {
  // Read first, then lengthen tokens: a read that found the 2 s login token expired already
  // (login exit plus a CLI start can take that long on a loaded machine) refreshes it, and with
  // an hour's TTL the wait for expiry below would last an hour.
  const before = await secrets({ AUTHSOME_REFRESH_MARGIN: "0" });
  await server.settings({ accessTokenTtl: 3600 });
  await untilExpired(before.expires_at);
  const countBefore = await refreshes();
  const started = Date.now();
  const runs = await Promise.all(Array.from({ length: 20 }, () => cli(["get", "oidc", "--field", "access_token", "--show-secret"], { AUTHSOME_REFRESH_MARGIN: "0" })));
  const wall = Date.now() - started;
  for (const run of runs) assert.equal(run.code, 0, run.stderr);
  const printed = new Set(runs.map((run) => run.stdout.trim()));
  assert.equal(printed.size, 1, "every process printed the same, new token");
  const [token] = printed;
  assert.notEqual(token, before.secrets["access_token"]);
  assert.equal((await server.introspect(token ?? "")).active, true);
  assert.equal((await refreshes()) - countBefore, 1, "the server saw exactly one refresh");
  const after = await secrets();
  assert.equal((await server.introspect(after.secrets["refresh_token"] ?? "")).active, true, "the rotated refresh token is valid: the grant was not revoked");
  process.stderr.write(`# 20 concurrent get after expiry: ${(await refreshes()) - countBefore} refresh request(s), ${wall} ms wall\n`);
});

test("in one process: concurrent getAccessToken calls share one refresh", async () => {
  await server.settings({ accessTokenTtl: 1 });
  const short = await secrets({ AUTHSOME_REFRESH_MARGIN: "86400" });
  await server.settings({ accessTokenTtl: 3600 });
  await untilExpired(short.expires_at);
  const countBefore = await refreshes();
  const service = await createAuthService({ home: home.home, profile: "default", refreshMarginSeconds: 0 });
  try {
    const tokens = await Promise.all(Array.from({ length: 10 }, () => service.getAccessToken("oidc")));
    assert.equal(new Set(tokens).size, 1);
    assert.equal((await refreshes()) - countBefore, 1);
  } finally {
    await service.close();
  }
  const { entries } = JSON.parse((await cli(["audit", "--json"])).stdout) as { entries: { action: string; outcome: string }[] };
  assert.ok(entries.some((e) => e.action === "refresh" && e.outcome === "ok"));
});

test("invalid_grant marks the connection needs_login and names the login command (exit 5)", async () => {
  const current = await secrets();
  // The grant ends at the provider (a user revoking access in its settings).
  const revoked = await fetch(`${server.issuer}/token/revocation`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ token: current.secrets["refresh_token"] ?? "", client_id: TEST_CLIENTS.public }).toString(),
  });
  assert.equal(revoked.status, 200);
  const r = await cli(["get", "oidc"], { AUTHSOME_REFRESH_MARGIN: "86400" });
  assert.equal(r.code, 5, r.stderr);
  assert.match(r.stderr, /needs a new login: the provider rejected the refresh token \(invalid_grant/);
  assert.match(r.stderr, /run: authsome login oidc --force/);
  assert.ok(!r.stderr.includes(current.secrets["refresh_token"] ?? "-"), "no token in the message");
  const status = await cli(["get", "oidc", "--field", "status"]);
  assert.equal(status.stdout.trim(), "needs_login");
  const before = await refreshes();
  assert.equal((await cli(["get", "oidc"], { AUTHSOME_REFRESH_MARGIN: "86400" })).code, 5);
  assert.equal(await refreshes(), before, "a needs_login connection is not retried against the provider");
});
