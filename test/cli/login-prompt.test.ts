/**
 * Prompts at a real terminal (a pty from python3's pty module) with no browser at hand: the
 * API key typed at a hidden prompt is never echoed and is stored; Ctrl-C cancels with exit 2;
 * a login without a client id explains the app registration and asks for the id and secret.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { runCli, tempHome } from "../helpers/cli.ts";
import { freePort } from "../helpers/oidc-server.ts";
import { noBrowserEnv, ptySkip, runOnPty } from "../helpers/pty.ts";

let home: Awaited<ReturnType<typeof tempHome>>;
before(async () => (home = await tempHome()));
after(() => home.cleanup());

test("hidden API-key prompt: nothing typed is echoed, a bad key is asked again, Backspace edits, the key is stored", { skip: ptySkip }, async () => {
  const key = "sk-typedatapty0123456789abcdef";
  const pty = runOnPty(["login", "openai", "--connection", "typed"], noBrowserEnv(home.env));
  await pty.waitFor(/OpenAI API key for "typed" \(input hidden\): $/);
  assert.match(pty.output(), /Create one at https:\/\/platform\.openai\.com\/api-keys/);
  pty.type("not-a-key\r");
  await pty.waitFor(/does not look like a OpenAI key[^\n]*; try again \(2 left\)[\s\S]*\(input hidden\): $/);
  pty.type(`${key.slice(0, 10)}XY\x7f\x7f${key.slice(10)}\r`);
  assert.equal(await pty.exited, 0, pty.output());
  assert.match(pty.output(), /Logged in to openai as connection "typed"/);
  assert.ok(!pty.output().includes(key.slice(3, 14)), `the key was echoed:\n${pty.output()}`);
  assert.ok(!pty.output().includes("not-a-key"), "a refused answer is not echoed either");
  const r = await runCli(["get", "openai", "--connection", "typed", "--field", "api_key", "--show-secret"], { env: home.env });
  assert.equal(r.stdout, `${key}\n`, r.stderr);
});

test("Ctrl-C at the hidden prompt cancels the login with exit 2 and stores nothing", { skip: ptySkip }, async () => {
  const pty = runOnPty(["login", "openai", "--connection", "cancelled"], noBrowserEnv(home.env));
  await pty.waitFor(/\(input hidden\): $/);
  pty.type("sk-partial\x03");
  assert.equal(await pty.exited, 2, pty.output());
  assert.match(pty.output(), /error: cancelled at the prompt/);
  const r = await runCli(["get", "openai", "--connection", "cancelled"], { env: home.env });
  assert.equal(r.code, 3, r.stderr);
});

test("no client id at a terminal: the registration screen, then a prompt for the id and a hidden one for the secret", { skip: ptySkip }, async () => {
  const port = await freePort();
  const pty = runOnPty(["login", "github", "--timeout", "3", "--redirect-port", String(port)], noBrowserEnv(home.env));
  await pty.waitFor(/Client id: $/);
  assert.match(pty.output(), /Register one: https:\/\/docs\.github\.com\//);
  assert.match(pty.output(), new RegExp(`Redirect URI \\(callback URL\\) to enter: http://127\\.0\\.0\\.1:${port}/callback`));
  pty.type("Iv1.typedid\r");
  await pty.waitFor(/GitHub client secret for "default" \(input hidden; Enter if there is none\): $/);
  assert.match(pty.output(), /Client id: Iv1\.typedid/, "the id (not a secret) is echoed");
  pty.type("s3cr3t-typed-value\r");
  await pty.waitFor(/\n  https:\/\/github\.com\/login\/oauth\/authorize\?\S*client_id=Iv1\.typedid/);
  assert.equal(await pty.exited, 2, "the login then waits for the browser until --timeout");
  assert.ok(!pty.output().includes("s3cr3t-typed-value"), "the secret is not echoed");
});
