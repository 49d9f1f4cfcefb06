/**
 * `authsome login aws`: three fields at a real terminal (a pty; the key id is echoed, the secret
 * and the session token are not), or piped on stdin as lines or JSON; `get` redacts the secret
 * and the token, `export` prints the AWS SDK's variable names; a malformed key id is refused
 * with exit 2 and nothing stored.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { runCli, tempHome } from "../helpers/cli.ts";
import { noBrowserEnv, ptySkip, runOnPty } from "../helpers/pty.ts";

const ID = "AKIALOGINTEST0000001";
const SECRET = "loginTestSecretKey/0123456789+abcdefABCD";
const TOKEN = "login-test-session-token-IQoJ";
let home: Awaited<ReturnType<typeof tempHome>>;
before(async () => (home = await tempHome()));
after(() => home.cleanup());

test("at a terminal: one prompt per field, secret and token hidden, all three stored", { skip: ptySkip }, async () => {
  const pty = runOnPty(["login", "aws", "--connection", "typed"], noBrowserEnv(home.env));
  await pty.waitFor(/Amazon Web Services access key id for "typed": $/);
  pty.type(`${ID}\r`);
  await pty.waitFor(/secret access key for "typed" \(input hidden\): $/);
  pty.type(`${SECRET}\r`);
  await pty.waitFor(/session token \(Enter if none\) for "typed" \(input hidden\): $/);
  pty.type(`${TOKEN}\r`);
  assert.equal(await pty.exited, 0, pty.output());
  assert.ok(pty.output().includes(ID), "the key id (not a secret) is echoed");
  assert.ok(!pty.output().includes(SECRET.slice(4, 20)) && !pty.output().includes(TOKEN.slice(6)), "secret and token are not echoed");
  const r = await runCli(["get", "aws", "--connection", "typed", "--field", "session_token", "--show-secret"], { env: home.env });
  assert.equal(r.stdout, `${TOKEN}\n`, r.stderr);
});

test("piped lines; get redacts; export prints AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (no token when none)", async () => {
  const login = await runCli(["login", "aws", "--connection", "piped"], { env: home.env, input: `${ID}\n${SECRET}\n` });
  assert.equal(login.code, 0, login.stderr);
  const get = await runCli(["get", "aws", "--connection", "piped", "--json"], { env: home.env });
  assert.equal(get.code, 0, get.stderr);
  assert.ok(!get.stdout.includes(SECRET), "redacted without --show-secret");
  assert.equal((JSON.parse(get.stdout) as { auth_type: string }).auth_type, "aws_sigv4");
  const exported = await runCli(["export", "aws", "--connection", "piped", "--format", "json"], { env: home.env });
  assert.equal(exported.code, 0, exported.stderr);
  assert.deepEqual(JSON.parse(exported.stdout), { AWS_ACCESS_KEY_ID: ID, AWS_SECRET_ACCESS_KEY: SECRET });
});

test("a malformed key id is refused (exit 2) without echoing what was read", async () => {
  const r = await runCli(["login", "aws", "--connection", "bad"], { env: home.env, input: JSON.stringify({ access_key_id: "not-an-id-xyz", secret_access_key: SECRET }) });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /access key id: that does not look like a Amazon Web Services key/);
  assert.ok(!r.stderr.includes(SECRET) && !r.stderr.includes("not-an-id-xyz"));
  const get = await runCli(["get", "aws", "--connection", "bad"], { env: home.env });
  assert.equal(get.code, 3);
});
