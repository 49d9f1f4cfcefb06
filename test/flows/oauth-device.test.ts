/**
 * Device authorization (RFC 8628) against a real authorization server: the CLI prints the
 * code, $BROWSER (a script) approves or denies it on the server's own pages, the CLI polls.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { runCli, tempHome } from "../helpers/cli.ts";
import { browserEnv, startOidcServer, type TestOidcServer, waitForLog, writeTestPlugin } from "../helpers/oidc-server.ts";
import { TEST_CLIENTS } from "../helpers/oidc-provider-app.ts";

let server: TestOidcServer;
let home: Awaited<ReturnType<typeof tempHome>>;
const cli = (args: string[], extra: Record<string, string> = {}) => runCli(args, { env: { ...home.env, ...extra } });

before(async () => {
  server = await startOidcServer();
  home = await tempHome();
  const r = await cli(["providers", "add", await writeTestPlugin(home.home, server.issuer, "oidc", { flows: ["pkce", "device_code"] })]);
  assert.equal(r.code, 0, r.stderr);
});
after(async () => {
  await server.close();
  await home.cleanup();
});

test("device code login: code shown, approved in the browser, token stored and active", async () => {
  const log = join(home.home, "approve.log");
  const r = await cli(["login", "oidc", "--flow", "device_code", "--client-id", TEST_CLIENTS.public], browserEnv(log));
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /open http:\/\/127\.0\.0\.1:\d+\/device\nand enter the code: [A-Z]{4}-[A-Z]{4}/);
  assert.match(r.stderr, /Waiting for approval/);
  await waitForLog(log, /^end /m);
  const got = await cli(["get", "oidc", "--json", "--show-secret"]);
  const view = JSON.parse(got.stdout) as { flow: string; secrets: { access_token: string; refresh_token?: string } };
  assert.equal(view.flow, "device_code");
  assert.ok(view.secrets.refresh_token);
  assert.equal((await server.introspect(view.secrets.access_token)).active, true);
  assert.ok((await server.stats()).tokenRequests["urn:ietf:params:oauth:grant-type:device_code"]! >= 1);
});

test("device code login denied in the browser: a clear error, exit 2", async () => {
  const r = await cli(["login", "oidc", "--connection", "denied", "--flow", "device_code", "--client-id", TEST_CLIENTS.public], browserEnv(join(home.home, "deny.log"), "deny"));
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /the login was denied in the browser/);
  assert.equal((await cli(["get", "oidc", "--connection", "denied"])).code, 3);
});

test("device code that expires before approval: a clear error, exit 2", async () => {
  // BROWSER=false: nobody approves; this client's codes live 2 s.
  const r = await cli(["login", "oidc", "--connection", "late", "--flow", "device_code", "--client-id", TEST_CLIENTS.expiring]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /the device code expired before the login was approved/);
});
