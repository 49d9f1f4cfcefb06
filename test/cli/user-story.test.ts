/**
 * The spine's user story, run through the real CLI as a subprocess in a temporary home.
 */
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { spawnSync } from "node:child_process";
import { runCli, tempHome } from "../helpers/cli.ts";
import { repoRoot } from "../helpers/spawn-runtime.ts";

const KEY = "sk-proj-story0123456789abcdefABCDEF";
const WORK_KEY = "sk-proj-work0123456789abcdefABCDEF";
let home: Awaited<ReturnType<typeof tempHome>>;
const cli = (args: string[], input?: string) => runCli(args, { env: home.env, ...(input === undefined ? {} : { input }) });

before(async () => {
  home = await tempHome();
});
after(async () => {
  await home.cleanup();
});

test("login from stdin, get, export, list, inspect, force, default, logout", async () => {
  let r = await cli(["login", "openai"], KEY);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /Logged in to openai as connection "default" \(default\)/);

  r = await cli(["login", "openai", "--connection", "work"], WORK_KEY);
  assert.equal(r.code, 0, r.stderr);

  r = await cli(["get", "openai", "--connection", "work"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /api_key\s+<redacted>/);
  assert.ok(!r.stdout.includes(WORK_KEY) && !r.stderr.includes(WORK_KEY));

  r = await cli(["get", "openai", "--connection", "work", "--field", "api_key", "--show-secret"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `${WORK_KEY}\n`);

  r = await cli(["get", "openai", "--field", "api_key"]);
  assert.equal(r.code, 2, "a secret field without --show-secret is a usage error");

  r = await cli(["export", "openai", "--format", "env"]);
  assert.equal(r.stdout, `OPENAI_API_KEY=${KEY}\n`);
  r = await cli(["export", "openai", "--format", "shell", "--connection", "work"]);
  assert.equal(r.stdout, `export OPENAI_API_KEY='${WORK_KEY}'\n`);

  r = await cli(["list"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /openai/);
  assert.match(r.stdout, /\* default\s+connected/);

  r = await cli(["inspect", "openai", "--json"]);
  const inspected = JSON.parse(r.stdout) as { default_connection: string; connections: { connection: string }[]; definition: { name: string } };
  assert.equal(inspected.definition.name, "openai");
  assert.equal(inspected.default_connection, "default");
  assert.deepEqual(inspected.connections.map((c) => c.connection).sort(), ["default", "work"]);
  assert.ok(!r.stdout.includes(KEY));

  r = await cli(["login", "openai", "--connection", "work"], WORK_KEY);
  assert.equal(r.code, 6, "an existing connection is not overwritten without --force");
  assert.match(r.stderr, /--force/);

  r = await cli(["login", "openai", "--connection", "work", "--force"], WORK_KEY);
  assert.equal(r.code, 0, r.stderr);
  r = await cli(["get", "openai", "--field", "connection"]);
  assert.equal(r.stdout, "work\n", "--force makes the connection the default");

  r = await cli(["default", "openai", "default"]);
  assert.equal(r.code, 0, r.stderr);
  r = await cli(["get", "openai", "--field", "connection"]);
  assert.equal(r.stdout, "default\n");

  r = await cli(["logout", "openai", "--connection", "work"]);
  assert.equal(r.code, 0, r.stderr);
  r = await cli(["get", "openai", "--connection", "work"]);
  assert.equal(r.code, 3);
  r = await cli(["get", "openai", "--field", "api_key", "--show-secret"]);
  assert.equal(r.stdout, `${KEY}\n`, "logout of one connection leaves the others");
});

test("exit codes and errors are stable and one line", async () => {
  let r = await cli(["get", "no-such-provider"]);
  assert.equal(r.code, 4);
  assert.match(r.stderr, /^error: .*no-such-provider/);
  r = await cli(["get", "anthropic"]);
  assert.equal(r.code, 3);
  r = await cli(["get", "openai", "--bogus"]);
  assert.equal(r.code, 2);
  r = await cli(["get", "anthropic", "--json"]);
  assert.equal(r.code, 3);
  assert.equal((JSON.parse(r.stdout) as { error: string }).error, "connection_not_found");
  r = await cli(["login", "anthropic"], "not-a-key");
  assert.equal(r.code, 2);
  assert.match(r.stderr, /does not look like/);
  r = await cli(["frobnicate"]);
  assert.equal(r.code, 2);
  r = await cli(["login", "--help"]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /--connection NAME/);
});

test("profiles: created explicitly, separate vaults", async () => {
  let r = await cli(["profile", "create", "pr-bot", "--description", "Auto-PR agent"]);
  assert.equal(r.code, 0, r.stderr);
  r = await cli(["profile", "list", "--json"]);
  const { profiles } = JSON.parse(r.stdout) as { profiles: { name: string; description: string | null }[] };
  assert.deepEqual(profiles.map((p) => p.name), ["default", "pr-bot"]);
  assert.equal(profiles[1]?.description, "Auto-PR agent");
  r = await cli(["--profile", "pr-bot", "list", "--json"]);
  const listed = JSON.parse(r.stdout) as { providers: { name: string; connections: unknown[] }[] };
  assert.equal(listed.providers.find((p) => p.name === "openai")?.connections.length, 0);
  r = await cli(["get", "openai", "--profile", "nope"]);
  assert.equal(r.code, 3);
  assert.match(r.stderr, /profile create nope/);
  r = await cli(["profile", "create", "pr-bot"]);
  assert.equal(r.code, 6);
});

test("providers add/list/remove, audit, whoami, doctor", async () => {
  const file = join(home.home, "acme.json");
  await writeFile(file, JSON.stringify({ name: "acme", displayName: "Acme", authType: "api_key", inject: [{ host: "api.acme.test", in: "header", name: "x-acme-key", format: "{token}" }] }));
  let r = await cli(["providers", "add", file]);
  assert.equal(r.code, 0, r.stderr);
  r = await cli(["providers", "add", file]);
  assert.equal(r.code, 7);
  r = await cli(["providers", "list", "--json"]);
  const { providers } = JSON.parse(r.stdout) as { providers: { name: string; source: string }[] };
  assert.ok(providers.some((p) => p.name === "acme"));
  r = await cli(["login", "acme"], "acme-key-1");
  assert.equal(r.code, 0, r.stderr);
  r = await cli(["providers", "remove", "acme"]);
  assert.equal(r.code, 0, r.stderr);

  r = await cli(["audit", "--json"]);
  const { entries } = JSON.parse(r.stdout) as { entries: { action: string; outcome: string }[] };
  for (const action of ["login", "get", "get_secret", "export", "logout", "default"]) assert.ok(entries.some((e) => e.action === action), action);
  r = await cli(["audit", "--verify"]);
  assert.equal(r.code, 0, r.stdout);

  r = await cli(["whoami", "--json"]);
  const who = JSON.parse(r.stdout) as { home: string; profile: string; storage_kind: string };
  assert.equal(who.home, home.home);
  assert.equal(who.profile, "default");
  assert.equal(who.storage_kind, "fs");
  r = await cli(["doctor"]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
});

test("`deno task authsome` runs the same CLI from the sources", () => {
  const deno = join(repoRoot, "node_modules/.bin/deno");
  const r = spawnSync(deno, ["task", "authsome", "whoami", "--json"], { cwd: repoRoot, env: { ...process.env, ...home.env, NO_COLOR: "1" }, encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  assert.equal((JSON.parse(r.stdout) as { home: string; runtime: string }).runtime, "deno");
});
