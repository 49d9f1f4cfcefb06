/**
 * A linear-style authsome-v1 file (flow `dcr_pkce`, authorization and token URLs, no
 * registration endpoint) logs in through the installed CLI against the real oidc-provider:
 * the registration endpoint is discovered from the authorization URL's origin at login.
 */
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { runCli, tempHome } from "../helpers/cli.ts";
import { browserEnv, freePort, startOidcServer, type TestOidcServer } from "../helpers/oidc-server.ts";

let server: TestOidcServer;
let home: Awaited<ReturnType<typeof tempHome>>;
const cli = (args: string[], extra: Record<string, string> = {}) => runCli(args, { env: { ...home.env, ...extra } });

before(async () => {
  server = await startOidcServer();
  home = await tempHome();
});
after(async () => {
  await server.close();
  await home.cleanup();
});

function linearStyle(issuer: string, name: string): Record<string, unknown> {
  return {
    schema_version: 1,
    name,
    display_name: "Tracker",
    auth_type: "oauth2",
    flow: "dcr_pkce",
    host_url: "api.tracker.example",
    oauth: {
      authorization_url: `${issuer}/auth`,
      token_url: `${issuer}/token`,
      revocation_url: `${issuer}/token/revocation`,
      device_authorization_url: null,
      scopes: ["openid"],
      pkce: true,
      supports_device_flow: false,
      supports_dcr: true,
    },
    export: { env: { access_token: "TRACKER_ACCESS_TOKEN", refresh_token: "TRACKER_REFRESH_TOKEN" } },
  };
}

test("dcr_pkce without registration_endpoint: discovered at login, one registration, token active", async () => {
  const file = join(home.home, "tracker.json");
  await writeFile(file, JSON.stringify(linearStyle(server.issuer, "tracker"), null, 2));
  let r = await cli(["providers", "add", file]);
  assert.equal(r.code, 0, r.stderr);
  const port = String(await freePort());
  r = await cli(["login", "tracker", "--redirect-port", port], browserEnv(join(home.home, "browser.log")));
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /Registering authsome as a client of Tracker/);
  assert.equal((await server.stats()).registrations, 1);
  r = await cli(["export", "tracker", "--format", "json"]);
  assert.equal(r.code, 0, r.stderr);
  const env = JSON.parse(r.stdout) as Record<string, string>;
  assert.deepEqual(Object.keys(env), ["TRACKER_ACCESS_TOKEN"], "the refresh token is never exported");
  assert.equal((await server.introspect(env["TRACKER_ACCESS_TOKEN"] ?? "")).active, true);
});

test("an origin without metadata: the login fails in one line naming the provider and the field to set", async () => {
  const dead = `http://127.0.0.1:${await freePort()}`;
  const base = linearStyle(server.issuer, "nometa");
  // Nothing listens at the authorization URL's origin: no metadata to discover.
  const file = join(home.home, "nometa.json");
  await writeFile(file, JSON.stringify({ ...base, oauth: { ...(base["oauth"] as object), authorization_url: `${dead}/auth` } }, null, 2));
  assert.equal((await cli(["providers", "add", file])).code, 0);
  const r = await cli(["login", "nometa", "--redirect-port", String(await freePort())], { BROWSER: "/nonexistent" });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /nometa/);
  assert.match(r.stderr, /registration/);
  assert.equal(r.stderr.trim().split("\n").filter((l) => l.startsWith("error")).length, 1, r.stderr);
});
