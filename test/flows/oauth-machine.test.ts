/**
 * Client credentials (RFC 6749 4.4, client_secret_post) and dynamic client registration
 * (RFC 7591) with endpoints from metadata discovery, against a real authorization server.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { runCli, tempHome } from "../helpers/cli.ts";
import { browserEnv, freePort, startOidcServer, type TestOidcServer, writeTestPlugin } from "../helpers/oidc-server.ts";
import { TEST_CLIENTS } from "../helpers/oidc-provider-app.ts";

let server: TestOidcServer;
let home: Awaited<ReturnType<typeof tempHome>>;
const cli = (args: string[], extra: Record<string, string> = {}, input?: string) =>
  runCli(args, { env: { ...home.env, ...extra }, ...(input === undefined ? {} : { input }) });
// A margin longer than any token's life: the next read renews the token (no waiting for expiry).
const RENEW = { AUTHSOME_REFRESH_MARGIN: "86400" };

async function view(provider: string, connection = "default", extra: Record<string, string> = {}) {
  const r = await cli(["get", provider, "--connection", connection, "--json", "--show-secret"], extra);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as { client_id: string; flow: string; secrets: Record<string, string> };
}

before(async () => {
  server = await startOidcServer();
  home = await tempHome();
  const m2m = await writeTestPlugin(home.home, server.issuer, "oidc-m2m", { flows: ["client_credentials"], oauth: { clientAuth: "client_secret_post", scopes: ["api:read"] } });
  const none = { authorizationUrl: undefined, tokenUrl: undefined, revocationUrl: undefined, deviceAuthorizationUrl: undefined };
  const dcr = await writeTestPlugin(home.home, server.issuer, "oidc-dcr", { flows: ["dcr_pkce"], redirectUri: `http://127.0.0.1:${await freePort()}/callback`, oauth: { ...none, issuer: server.issuer } });
  for (const file of [m2m, dcr]) assert.equal((await cli(["providers", "add", file])).code, 0);
});
after(async () => {
  await server.close();
  await home.cleanup();
});

test("client credentials: secret from stdin, no browser, token active; re-acquired (not refreshed) on expiry", async () => {
  let r = await cli(["login", "oidc-m2m", "--client-id", TEST_CLIENTS.machine], { BROWSER: "/nonexistent" }, TEST_CLIENTS.machineSecret);
  assert.equal(r.code, 0, r.stderr);
  const first = await view("oidc-m2m");
  assert.equal(first.flow, "client_credentials");
  assert.equal(first.secrets["refresh_token"], undefined);
  assert.equal((await server.introspect(first.secrets["access_token"] ?? "")).client_id, TEST_CLIENTS.machine);
  const renewed = await view("oidc-m2m", "default", RENEW);
  assert.notEqual(renewed.secrets["access_token"], first.secrets["access_token"]);
  assert.equal((await server.introspect(renewed.secrets["access_token"] ?? "")).active, true);
  const stats = await server.stats();
  assert.equal(stats.tokenRequests["client_credentials"], 2);
  assert.equal(stats.tokenRequests["refresh_token"], undefined);
  r = await cli(["login", "oidc-m2m", "--connection", "nosecret", "--client-id", "another-machine"], {}, "");
  assert.equal(r.code, 2, "client credentials without a secret is refused");
  assert.match(r.stderr, /needs a client secret/);
});

test("DCR: endpoints from discovery, one registration, reused on the next login; refresh and revoke work", async () => {
  let r = await cli(["login", "oidc-dcr"], browserEnv(join(home.home, "dcr1.log")));
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /Registering authsome as a client/);
  r = await cli(["login", "oidc-dcr", "--connection", "two"], browserEnv(join(home.home, "dcr2.log")));
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /Using the client registered earlier/);
  assert.equal((await server.stats()).registrations, 1, "the server saw one registration");
  const one = await view("oidc-dcr");
  const two = await view("oidc-dcr", "two");
  assert.equal(one.client_id, two.client_id);
  assert.equal((await server.introspect(two.secrets["access_token"] ?? "")).active, true);
  const refreshed = await view("oidc-dcr", "two", RENEW);
  assert.notEqual(refreshed.secrets["refresh_token"], two.secrets["refresh_token"], "rotated");
  r = await cli(["revoke", "oidc-dcr"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal((await server.introspect(refreshed.secrets["refresh_token"] ?? "")).active, false);
  assert.equal((await server.introspect(one.secrets["access_token"] ?? "")).active, false);
});
