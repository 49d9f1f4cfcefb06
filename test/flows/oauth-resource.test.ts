/**
 * Resource indicators (RFC 8707), `iss` (RFC 9207) and dynamic registration (RFC 7591) through
 * the installed CLI against a real authorization server (test/helpers/oidc-resource-app.ts:
 * oidc-provider with resource indicators, resource-server scopes, rotating refresh tokens with
 * reuse detection). A plugin whose oauth config carries `resource` and an `issuer` logs in with
 * PKCE and refreshes: every token request carries the resource, the tokens are for it, the grant
 * survives rotation; a forged `iss` ends the login before any token request; registration sends
 * no `scope` (this server would refuse it) and falls back when an optional member is refused.
 */
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { runCli, tempHome } from "../helpers/cli.ts";
import { RESOURCE, RESOURCE_CLIENT, type ResourceAuthServer, startResourceAuth } from "../helpers/oidc-resource-app.ts";
import { browserEnv, freePort, waitForLog } from "../helpers/oidc-server.ts";

let server: ResourceAuthServer;
let home: Awaited<ReturnType<typeof tempHome>>;
let logs = 0;
const cli = (args: string[], extra: Record<string, string> = {}) => runCli(args, { env: { ...home.env, ...extra } });
const browser = () => browserEnv(join(home.home, `browser-${++logs}.log`));
// Reads must not refresh by themselves: the tests say when a token is due.
const NO_MARGIN = { AUTHSOME_REFRESH_MARGIN: "0" };

async function addPlugin(name: string, flows: string[]): Promise<void> {
  const issuer = server.issuer;
  const endpoints = flows.includes("pkce") ? { authorizationUrl: `${issuer}/auth`, tokenUrl: `${issuer}/token`, revocationUrl: `${issuer}/token/revocation` } : {};
  const plugin = {
    name,
    displayName: `Test ${name}`,
    authType: "oauth2",
    flows,
    oauth: { issuer, ...endpoints, scopes: ["openid", "api:read"], resource: RESOURCE, redirectUri: `http://127.0.0.1:${await freePort()}/callback` },
    inject: [{ host: "api.resource.test" }],
  };
  const file = join(home.home, `${name}.json`);
  await writeFile(file, JSON.stringify(plugin));
  const r = await cli(["providers", "add", file]);
  assert.equal(r.code, 0, r.stderr);
}

async function secrets(provider: string, connection = "default"): Promise<{ expires_at: string; secrets: Record<string, string> }> {
  const r = await cli(["get", provider, "--connection", connection, "--json", "--show-secret"], NO_MARGIN);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as { expires_at: string; secrets: Record<string, string> };
}

before(async () => {
  server = await startResourceAuth();
  home = await tempHome();
  await addPlugin("res", ["pkce"]);
});
after(async () => {
  await server.close();
  await home.cleanup();
});

test("PKCE + refresh with resource: every token request names it, the tokens are for it, the grant survives rotation", async () => {
  // Hour-long tokens, and the refresh asked for by a margin longer than that: the first read
  // cannot refresh by itself however long the login and its exit take (with 2 s tokens a read
  // more than 2 s after the token was issued refreshed it, and the token requests below were 3).
  const r = await cli(["login", "res", "--client-id", RESOURCE_CLIENT], browser());
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /[?&]resource=https%3A%2F%2Fapi\.resource\.test%2F/, "the authorization URL carries the resource");
  const first = await secrets("res");
  assert.equal((await server.accessToken(first.secrets["access_token"] ?? ""))?.audience, RESOURCE, "the access token is for the resource");
  const refreshed = await cli(["get", "res", "--field", "access_token", "--show-secret"], { AUTHSOME_REFRESH_MARGIN: "7200" });
  assert.equal(refreshed.code, 0, refreshed.stderr);
  const token = refreshed.stdout.trim();
  assert.notEqual(token, first.secrets["access_token"]);
  const seen = await server.accessToken(token);
  assert.equal(seen?.audience, RESOURCE, "the refreshed token is for the same resource");
  assert.ok(seen?.scopes.includes("api:read"), `resource-server scopes granted: ${seen?.scopes.join(" ")}`);
  const after = await secrets("res");
  assert.notEqual(after.secrets["refresh_token"], first.secrets["refresh_token"], "the refresh token rotated");
  assert.equal(await server.refreshTokenActive(first.secrets["refresh_token"] ?? ""), false, "the old refresh token is spent");
  assert.equal(await server.refreshTokenActive(after.secrets["refresh_token"] ?? ""), true, "the rotated one is live: nothing was replayed");
  assert.deepEqual(server.stats.tokens.map((t) => t.grant), ["authorization_code", "refresh_token"]);
  for (const request of server.stats.tokens) {
    assert.deepEqual(request.resource, [RESOURCE], `${request.grant} carried the resource`);
    assert.equal(request.status, 200, request.grant);
  }
});

test("a forged iss on the authorization response (RFC 9207) ends the login with exit 2 before any token request", async () => {
  const before = server.stats.tokens.length;
  server.settings.forgeIss = true;
  try {
    const log = join(home.home, `browser-${++logs}.log`);
    const r = await cli(["login", "res", "--connection", "forged", "--client-id", RESOURCE_CLIENT], browserEnv(log));
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /does not come from Test res's authorization server \(.*iss/);
    assert.deepEqual(await waitForLog(log, /^end /m), ["favicon 404", "end 400 callback Login refused"]);
  } finally {
    server.settings.forgeIss = false;
  }
  assert.equal(server.stats.tokens.length, before, "no code was exchanged");
  assert.equal((await cli(["get", "res", "--connection", "forged"])).code, 3, "nothing was stored");
});

test("DCR with resource-server scopes: no scope in the metadata, one registration reused on the next login, resource on the token requests", async () => {
  await addPlugin("res-dcr", ["dcr_pkce"]);
  const attempts = server.stats.registrations.length;
  const tokens = server.stats.tokens.length;
  const first = await cli(["login", "res-dcr"], browser());
  assert.equal(first.code, 0, first.stderr);
  const registered = server.stats.registrations.slice(attempts);
  assert.equal(registered.length, 1, "registered on the first try");
  assert.deepEqual(registered[0], { members: ["application_type", "client_name", "grant_types", "redirect_uris", "response_types", "token_endpoint_auth_method"], status: 201 });
  const second = await cli(["login", "res-dcr", "--connection", "two"], browser());
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stderr, /Using the client registered earlier/);
  assert.equal(server.stats.registrations.length, attempts + 1, "never registered again");
  for (const request of server.stats.tokens.slice(tokens)) assert.deepEqual(request.resource, [RESOURCE], request.grant);
});

test("a registration refused for an optional member is retried once with the required metadata only", async () => {
  await addPlugin("res-strict", ["dcr_pkce"]);
  const attempts = server.stats.registrations.length;
  server.settings.refuseClientName = true;
  try {
    const r = await cli(["login", "res-strict"], browser());
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /refused part of the registration \(client_name is not accepted here\); retrying/);
  } finally {
    server.settings.refuseClientName = false;
  }
  const tries = server.stats.registrations.slice(attempts);
  assert.deepEqual(tries.map((t) => t.status), [400, 201]);
  assert.deepEqual(tries[1]?.members, ["grant_types", "redirect_uris", "response_types", "token_endpoint_auth_method"]);
  assert.equal((await secrets("res-strict")).secrets["access_token"] !== undefined, true);
});
