/**
 * The conventional CLI, through the real CLI subprocess: version and help forms, did-you-mean
 * for commands and flags, one-line parse errors naming the flag, name rules for --connection and
 * --profile, `get --field` limited to the record's own fields, and `run`'s 126/127 exit codes.
 */
import assert from "node:assert/strict";
import { chmod, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { runCli, tempHome } from "../helpers/cli.ts";
import { repoRoot } from "../helpers/spawn-runtime.ts";

const KEY = "sk-proj-conventions0123456789abcdefAB";
let home: Awaited<ReturnType<typeof tempHome>>;
const cli = (args: string[], input?: string) => runCli(args, { env: home.env, ...(input === undefined ? {} : { input }) });

/** The error part of stderr: the line after `error:` and its hint. */
function errorLines(stderr: string): string[] {
  return stderr.trimEnd().split("\n");
}

before(async () => {
  home = await tempHome();
  const r = await cli(["login", "openai"], KEY);
  assert.equal(r.code, 0, r.stderr);
});
after(async () => {
  await home.cleanup();
});

test("-v, -V and --version print the package version", async () => {
  const { version } = JSON.parse(await readFile(join(repoRoot, "package.json"), "utf8")) as { version: string };
  for (const flag of ["-v", "-V", "--version"]) {
    const r = await cli([flag]);
    assert.equal(r.code, 0, flag);
    assert.equal(r.stdout, `${version}\n`, flag);
  }
});

test("help <command> and help <command> <sub-command> print that command's help", async () => {
  let r = await cli(["help", "login"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^authsome login <provider>/);
  assert.match(r.stdout, /--flow FLOW/);
  r = await cli(["help", "profile", "create"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^authsome profile create <profile>/);
  assert.match(r.stdout, /--description TEXT/);
  r = await cli(["help"]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /completion/);
  assert.doesNotMatch(r.stdout, /__complete/, "internal commands stay out of help");
  r = await cli(["help", "lgin"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /did you mean: login\?/);
});

test("a mistyped command or sub-command gets a suggestion", async () => {
  let r = await cli(["lgin"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown command "lgin"\n {2}did you mean: login\?/);
  r = await cli(["profile", "craete", "x"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /did you mean: create\?/);
  r = await cli(["zzzzzz"]);
  assert.equal(r.code, 2);
  assert.doesNotMatch(r.stderr, /did you mean/, "nothing close, nothing suggested");
});

test("every parse error is one line naming the flag, without parseArgs' quoting", async () => {
  const cases: [string[], RegExp][] = [
    [["login", "openai", "--flw", "pkce"], /^error: unknown option --flw for `authsome login`; did you mean: --flow\?$/],
    [["get", "openai", "-x"], /^error: unknown option -x for `authsome get`$/],
    [["get", "openai", "--connection"], /^error: --connection needs a value \(--connection NAME\)$/],
    [["get", "openai", "--connection", "--show-secret"], /^error: --connection needs a value, got the option --show-secret/],
    [["list", "--json=yes"], /^error: --json takes no value/],
    [["get", "openai", "-connection", "x"], /^error: -connection: long options take two dashes \(--connection\)$/],
    [["export", "openai", "--format", "xml"], /^error: --format "xml" is not one of: env, json, shell$/],
    [["get"], /^error: missing <provider> for `authsome get`$/],
    [["completion", "tcsh"], /^error: "tcsh" is not one of: bash, zsh, fish$/],
  ];
  for (const [args, message] of cases) {
    const r = await cli(args);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    const [first, ...others] = errorLines(r.stderr);
    assert.match(first ?? "", message, args.join(" "));
    assert.ok(others.length <= 1 && (others[0] ?? "  ").startsWith("  "), `one error line plus at most one hint: ${r.stderr}`);
    assert.doesNotMatch(r.stderr, /'--|To specify a positional/, "no Node parseArgs artefacts");
    assert.equal(r.stdout, "");
  }
});

test("--connection and --profile names are checked everywhere; '' never means default", async () => {
  const bad = ["", "a/b", "..", "../x", "a b", "x\u0007y", "é", "n".repeat(65)];
  for (const name of bad) {
    for (const args of [["get", "openai", "--connection", name], ["logout", "openai", `--connection=${name}`], ["list", "--profile", name], ["default", "openai", name]]) {
      const r = await cli(args);
      assert.equal(r.code, 2, `${JSON.stringify(args)}: ${r.stderr}`);
      assert.match(r.stderr, /^error: (--connection|--profile|<connection>) /, JSON.stringify(args));
      assert.ok(!r.stderr.includes("\u0007"), "control characters are escaped, not echoed");
    }
  }
  const r = await cli(["run", "--connection", "openai=a/b", "--", "true"]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /^error: --connection openai= "a\/b" is not a valid name/);
  const ok = await cli(["get", "openai", "--connection", "default", "--field", "connection"]);
  assert.equal(ok.stdout, "default\n", "a valid name still works");
});

test("get --field accepts only the record's own fields", async () => {
  for (const field of ["__proto__", "constructor", "toString", "hasOwnProperty", "secrets", "nope"]) {
    const r = await cli(["get", "openai", "--field", field]);
    assert.equal(r.code, 2, `${field}: ${r.stdout}${r.stderr}`);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /has no field/);
    assert.match(r.stderr, /fields: provider, connection, .*status.*api_key/);
    assert.doesNotMatch(r.stderr, /\[object Object\]|function|native code/);
  }
  const r = await cli(["get", "openai", "--field", "status"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "connected\n");
});

test("run exits 127 for a missing command and 126 for a file it cannot execute", async () => {
  let r = await cli(["run", "--", "authsome-no-such-command-xyz", "arg"]);
  assert.equal(r.code, 127, r.stderr);
  assert.match(r.stderr, /error: command not found: "authsome-no-such-command-xyz"\n$/);
  assert.doesNotMatch(r.stderr, /proxy on/, "checked before any proxy starts");
  const script = join(home.home, "not-executable.sh");
  await writeFile(script, "#!/bin/sh\necho ran\n");
  await chmod(script, 0o644);
  r = await cli(["run", "--", script]);
  assert.equal(r.code, 126, r.stderr);
  assert.match(r.stderr, /error: cannot execute ".*not-executable\.sh": /);
  assert.doesNotMatch(r.stdout, /ran/);
  r = await cli(["run", "--json", "--", "authsome-no-such-command-xyz"]);
  assert.equal(r.code, 127);
  assert.equal((JSON.parse(r.stdout.trim().split("\n").at(-1) ?? "{}") as { error: string }).error, "command_not_found");
});
