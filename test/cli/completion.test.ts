/**
 * `authsome completion bash|zsh|fish`: each script is valid for its shell (checked where the
 * shell is installed), and the `__complete` callback returns commands, sub-commands, flags,
 * choices, provider and connection names for a sample home, never a secret. Bash is also driven
 * for real: the script is sourced and its completion function run against a PATH `authsome`.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmod, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { cliCommand, runCli, tempHome } from "../helpers/cli.ts";

const KEY = "sk-proj-completion0123456789abcdefAB";
let home: Awaited<ReturnType<typeof tempHome>>;
const cli = (args: string[], input?: string) => runCli(args, { env: home.env, ...(input === undefined ? {} : { input }) });
const has = (shell: string) => spawnSync(shell, ["-c", "exit 0"]).status === 0;
const SYNTAX: Record<string, string[]> = { bash: ["-n"], zsh: ["-n"], fish: ["--no-execute"] };

/** Candidates for the words after `authsome` (the last one being typed). */
async function complete(...words: string[]): Promise<string[]> {
  const r = await cli(["__complete", "--", ...words]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, "");
  return r.stdout.split("\n").filter(Boolean);
}

before(async () => {
  home = await tempHome();
  for (const connection of ["default", "work"]) {
    const r = await cli(["login", "openai", "--connection", connection], KEY);
    assert.equal(r.code, 0, r.stderr);
  }
});
after(async () => {
  await home.cleanup();
});

for (const shell of ["bash", "zsh", "fish"]) {
  test(`the ${shell} script is valid ${shell}`, { skip: has(shell) ? false : `${shell} is not installed` }, async () => {
    const r = await cli(["completion", shell]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /authsome __complete --/);
    const file = join(home.home, `completion.${shell}`);
    await writeFile(file, r.stdout);
    const check = spawnSync(shell, [...(SYNTAX[shell] ?? []), file], { encoding: "utf8", timeout: 30_000 });
    assert.equal(check.status, 0, check.stderr);
  });
}

test("__complete: commands, sub-commands, flags and choices from the command definitions", async () => {
  assert.deepEqual(await complete("lo"), ["login", "logout"]);
  assert.ok((await complete("")).includes("completion"));
  assert.ok(!(await complete("")).includes("__complete"), "internal commands are not offered");
  assert.deepEqual(await complete("profile", ""), ["create", "list", "remove"]);
  assert.deepEqual(await complete("login", "openai", "--f"), ["--flow", "--force"]);
  assert.deepEqual(await complete("profile", "create", "--d"), ["--description"]);
  assert.deepEqual(await complete("export", "openai", "--format", ""), ["env", "json", "shell"]);
  assert.deepEqual(await complete("completion", ""), ["bash", "fish", "zsh"]);
  assert.deepEqual(await complete("help", "pro"), ["profile", "providers"]);
  assert.deepEqual(await complete("nosuchcommand", ""), []);
});

test("__complete: provider and connection names from the home, names only", async () => {
  assert.deepEqual(await complete("get", "open"), ["openai", "openrouter"]);
  assert.deepEqual(await complete("get", "openai", "--connection", ""), ["default", "work"]);
  assert.deepEqual(await complete("default", "openai", "w"), ["work"]);
  assert.deepEqual(await complete("--json", "get", "openai", "-c", "d"), ["default"]);
  const everything = await cli(["__complete", "--", "get", "openai", "--connection", ""]);
  assert.ok(!everything.stdout.includes(KEY));
  const fresh = await runCli(["__complete", "--", "get", "git"], { env: { ...home.env, AUTHSOME_HOME: join(home.home, "not-yet") } });
  assert.equal(fresh.stdout, "github\ngitlab\n", "bundled providers without creating a home");
  assert.equal(spawnSync("test", ["-e", join(home.home, "not-yet")]).status, 1, "the home was not created");
});

/** A directory holding an `authsome` that starts the CLI under test, for a shell's PATH. */
async function pathWithCli(): Promise<string> {
  const { command, args } = cliCommand();
  const bin = join(home.home, "bin");
  spawnSync("mkdir", ["-p", bin]);
  await writeFile(join(bin, "authsome"), `#!/bin/sh\nexec ${[command, ...args].map((a) => `'${a}'`).join(" ")} "$@"\n`);
  await chmod(join(bin, "authsome"), 0o755);
  return `${bin}:${process.env["PATH"] ?? ""}`;
}

test("bash: the sourced script completes through the authsome on PATH", { skip: has("bash") ? false : "bash is not installed" }, async () => {
  const path = await pathWithCli();
  const script = [
    'eval "$(authsome completion bash)"',
    'COMP_WORDS=(authsome get openai --connection ""); COMP_CWORD=4; _authsome_complete; echo "${COMPREPLY[*]}"',
    "COMP_WORDS=(authsome pro); COMP_CWORD=1; _authsome_complete; echo \"${COMPREPLY[*]}\"",
  ].join("\n");
  const r = spawnSync("bash", ["-c", script], { encoding: "utf8", timeout: 60_000, env: { ...process.env, ...home.env, PATH: path } });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.stdout.split("\n"), ["default work", "profile providers", ""]);
});

test("fish: the sourced script completes through the authsome on PATH", { skip: has("fish") ? false : "fish is not installed" }, async () => {
  const path = await pathWithCli();
  const file = join(home.home, "authsome.fish");
  await writeFile(file, (await cli(["completion", "fish"])).stdout);
  const script = `source '${file}'; complete -C 'authsome get openai --connection '; echo ---; complete -C 'authsome pro'`;
  const r = spawnSync("fish", ["-c", script], { encoding: "utf8", timeout: 60_000, env: { ...process.env, ...home.env, PATH: path } });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.stdout.split("\n"), ["default", "work", "---", "profile", "providers", ""]);
});
