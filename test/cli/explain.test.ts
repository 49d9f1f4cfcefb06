/**
 * `authsome explain URL [--connection C] [--json]` through the installed CLI: the verdict in
 * words and as JSON, why none, a usage error for a non-URL, and never the stored key.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { runCli, tempHome } from "../helpers/cli.ts";

const KEY = "sk-explaincli0000000000000000";
let home: Awaited<ReturnType<typeof tempHome>>;

before(async () => {
  home = await tempHome();
  const login = await runCli(["login", "openai"], { env: home.env, input: KEY });
  assert.equal(login.code, 0, login.stderr);
});

after(() => home.cleanup());

test("explain --json names provider, connection, rule and placement", async () => {
  const result = await runCli(["explain", "https://api.openai.com/v1/models", "--json"], { env: home.env });
  assert.equal(result.code, 0, result.stderr);
  const body = JSON.parse(result.stdout) as { applies: boolean; provider: string; connection: string; placement: { in: string; name: string; value: string }; deny_unmatched: string };
  assert.equal(body.applies, true);
  assert.equal(body.provider, "openai");
  assert.equal(body.connection, "default");
  assert.deepEqual(body.placement, { in: "header", name: "Authorization", value: "Bearer <api key>" });
  assert.equal(body.deny_unmatched, "allowed");
  assert.ok(!result.stdout.includes(KEY) && !result.stderr.includes(KEY));
});

test("explain in words, and why none", async () => {
  const hit = await runCli(["explain", "https://api.openai.com/v1/models"], { env: home.env });
  assert.equal(hit.code, 0, hit.stderr);
  assert.match(hit.stdout, /inject: OpenAI connection "default" would be injected as header Authorization: Bearer <api key>/);
  const github = await runCli(["explain", "https://api.github.com/user"], { env: home.env });
  assert.equal(github.code, 0, github.stderr);
  assert.match(github.stdout, /no credential: nothing would be injected: github: no default connection for github \(log in first: authsome login github\)/);
  const named = await runCli(["explain", "https://api.openai.com/v1/models", "--connection", "work", "--json"], { env: home.env });
  assert.equal(named.code, 0, named.stderr);
  assert.match((JSON.parse(named.stdout) as { reason: string }).reason, /would fail: openai has no connection "work"/);
  const nobody = await runCli(["explain", "https://example.com/"], { env: home.env });
  assert.match(nobody.stdout, /no provider declares example\.com/);
  assert.match(nobody.stdout, /--deny-unmatched: denied/);
});

test("a non-URL is a usage error (exit 2)", async () => {
  const bad = await runCli(["explain", "ftp://api.openai.com/", "--json"], { env: home.env });
  assert.equal(bad.code, 2);
  assert.equal((JSON.parse(bad.stdout) as { error: string }).error, "usage");
  const missing = await runCli(["explain"], { env: home.env });
  assert.equal(missing.code, 2);
});
