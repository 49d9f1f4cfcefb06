/**
 * Authorization code + PKCE against a real authorization server (oidc-provider), driven
 * through the real CLI with $BROWSER set to a script that logs in and consents over HTTP.
 * Also: the callback server's state check, revoke (RFC 7009) and logout (no network).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { runCli, tempHome } from "../helpers/cli.ts";
import { browserEnv, freePort, startOidcServer, type TestOidcServer, waitForLog, writeTestPlugin } from "../helpers/oidc-server.ts";
import { TEST_CLIENTS } from "../helpers/oidc-provider-app.ts";

let server: TestOidcServer;
let home: Awaited<ReturnType<typeof tempHome>>;
let logs = 0;
const cli = (args: string[], extra: Record<string, string> = {}, input?: string) =>
  runCli(args, { env: { ...home.env, ...extra }, ...(input === undefined ? {} : { input }) });
const nextLog = () => join(home.home, `browser-${++logs}.log`);

async function secrets(provider: string, connection = "default"): Promise<Record<string, string>> {
  const r = await cli(["get", provider, "--connection", connection, "--json", "--show-secret"]);
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as { secrets: Record<string, string> }).secrets;
}

before(async () => {
  server = await startOidcServer();
  home = await tempHome();
  const redirectUri = `http://127.0.0.1:${await freePort()}/callback`;
  for (const name of ["oidc", "oidc-conf"]) {
    const r = await cli(["providers", "add", await writeTestPlugin(home.home, server.issuer, name, { flows: ["pkce"], redirectUri })]);
    assert.equal(r.code, 0, r.stderr);
  }
});
after(async () => {
  await server.close();
  await home.cleanup();
});

test("PKCE login: the browser logs in, the callback ignores a favicon, the token is active", async () => {
  const log = nextLog();
  const r = await cli(["login", "oidc", "--client-id", TEST_CLIENTS.public], browserEnv(log));
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /Opening this URL in your browser:\n  http:\/\/127\.0\.0\.1:\d+\/\S*client_id=/, "the URL is printed before the browser is started");
  assert.match(r.stderr, /Waiting for the callback on http:\/\/127\.0\.0\.1:\d+\/callback \(Ctrl-C to cancel\)/);
  assert.deepEqual(await waitForLog(log, /^end /m), ["favicon 404", "end 200 callback Logged in"]);
  const stored = await secrets("oidc");
  assert.ok(stored["refresh_token"], "a refresh token is stored");
  const introspected = await server.introspect(stored["access_token"] ?? "");
  assert.equal(introspected.active, true);
  assert.equal(introspected.client_id, TEST_CLIENTS.public);
  assert.equal((await server.stats()).tokenRequests["authorization_code"], 1);
  const exported = await cli(["export", "oidc", "--format", "env"]);
  assert.equal(exported.stdout, `OIDC_TOKEN=${stored["access_token"]}\n`, "export gives the access token, never the refresh token");
});

test("--redirect-port moves the loopback callback (the app must allow that redirect URI)", async () => {
  const port = await freePort();
  const log = nextLog();
  const r = await cli(["login", "oidc", "--connection", "port", "--redirect-port", String(port), "--client-id", TEST_CLIENTS.public], browserEnv(log));
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, new RegExp(`Waiting for the callback on http://127\\.0\\.0\\.1:${port}/callback`));
  const bad = await cli(["login", "oidc", "--connection", "port2", "--redirect-port", "70000"]);
  assert.equal(bad.code, 2);
});

test("a callback with the wrong state ends the login at once with exit 2", async () => {
  const log = nextLog();
  const started = Date.now();
  const r = await cli(["login", "oidc", "--connection", "forged", "--client-id", TEST_CLIENTS.public], browserEnv(log, "wrong-state"));
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /state did not match/);
  assert.ok(Date.now() - started < 20_000, "ended at once, not at the timeout");
  assert.deepEqual(await waitForLog(log, /^callback /m), ["favicon 404", "callback 400 Login refused"]);
  assert.equal((await cli(["get", "oidc", "--connection", "forged"])).code, 3);
});

test("a confidential client: the secret comes from stdin once, is saved, and is never printed", async () => {
  let r = await cli(["login", "oidc-conf", "--client-id", TEST_CLIENTS.confidential], browserEnv(nextLog()), TEST_CLIENTS.confidentialSecret);
  assert.equal(r.code, 0, r.stderr);
  // Second login: no --client-id, nothing on stdin: the saved client (and secret) are used.
  r = await cli(["login", "oidc-conf", "--connection", "second"], browserEnv(nextLog()));
  assert.equal(r.code, 0, r.stderr);
  const view = await cli(["get", "oidc-conf", "--connection", "second", "--json", "--show-secret"]);
  assert.ok(!view.stdout.includes(TEST_CLIENTS.confidentialSecret) && !r.stderr.includes(TEST_CLIENTS.confidentialSecret));
  assert.equal((await server.introspect((await secrets("oidc-conf", "second"))["access_token"] ?? "")).client_id, TEST_CLIENTS.confidential);
});

test("logout removes the local record and never contacts the provider", async () => {
  const r0 = await cli(["login", "oidc", "--connection", "bye", "--client-id", TEST_CLIENTS.public], browserEnv(nextLog()));
  assert.equal(r0.code, 0, r0.stderr);
  const token = (await secrets("oidc", "bye"))["access_token"] ?? "";
  const before = (await server.stats()).requests;
  const r = await cli(["logout", "oidc", "--connection", "bye"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal((await server.stats()).requests, before, "the server saw no request");
  assert.equal((await server.introspect(token)).active, true, "the token is still valid at the provider");
});

test("revoke: the provider reports the tokens inactive, local state and the saved client are gone", async () => {
  const before = await secrets("oidc-conf");
  const second = await secrets("oidc-conf", "second");
  const r = await cli(["revoke", "oidc-conf", "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as { removed: string[]; client_removed: boolean; tokens: { outcome: string }[] };
  assert.deepEqual(report.removed, ["default", "second"]);
  assert.equal(report.client_removed, true);
  assert.ok(report.tokens.length === 4 && report.tokens.every((t) => t.outcome === "revoked"), r.stdout);
  for (const token of [before["access_token"], before["refresh_token"], second["access_token"], second["refresh_token"]]) {
    assert.equal((await server.introspect(token ?? "")).active, false);
  }
  assert.equal((await cli(["get", "oidc-conf"])).code, 3);
  const { entries } = JSON.parse((await cli(["audit", "--json"])).stdout) as { entries: { action: string; connection?: string; outcome: string }[] };
  assert.equal(entries.filter((e) => e.action === "revoke_token" && e.outcome === "ok").length, 4);
  assert.ok(entries.some((e) => e.action === "revoke" && e.outcome === "ok"));
  const again = await cli(["login", "oidc-conf"]);
  assert.equal(again.code, 2, "the saved client is gone: --client-id is needed again");
  assert.match(again.stderr, /--client-id/);
});

test("revoke --connection removes only that connection, reporting per token", async () => {
  const r0 = await cli(["login", "oidc", "--connection", "one", "--client-id", TEST_CLIENTS.public], browserEnv(nextLog()));
  assert.equal(r0.code, 0, r0.stderr);
  const token = (await secrets("oidc", "one"))["refresh_token"] ?? "";
  const r = await cli(["revoke", "oidc", "--connection", "one"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /Revoked the oidc\/one refresh token/);
  assert.equal((await server.introspect(token)).active, false);
  assert.equal((await cli(["get", "oidc"])).code, 0, "the default connection is untouched");
});
