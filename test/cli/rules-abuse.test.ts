/**
 * Host rules that cannot be abused (issue 10 part 4), through the installed CLI: every rule that
 * matches every host or a public suffix is refused at `providers add` (native JSON, authsome-v1
 * JSON, a module plugin) and at load (a file put into the home by hand), in one line naming the
 * file and the field; nothing is installed; narrow regex rules, the catastrophic one included,
 * install and load at once.
 */
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { runCliBounded } from "../helpers/bounded-cli.ts";
import { tempHome, type CliResult } from "../helpers/cli.ts";
import { MATCH_ALL } from "../helpers/rule-cases.ts";

const MASTER_KEY = "b2".repeat(32);
let home: Awaited<ReturnType<typeof tempHome>>;
let dir = "";
const BOUND = { timeout: 240_000 };

before(async () => {
  home = await tempHome();
  dir = await mkdtemp(join(tmpdir(), "authsome-rules-"));
});
after(async () => {
  await home.cleanup();
  await rm(dir, { recursive: true, force: true });
});

// Bounded: a rule check that backtracked or looped would fail here instead of hanging the suite.
async function cli(args: string[]): Promise<CliResult> {
  const r = await runCliBounded(args, { env: { ...home.env, AUTHSOME_MASTER_KEY: MASTER_KEY }, limitMs: 30_000 });
  assert.ok(!r.killed, `authsome ${args.join(" ")} still running after 30 s`);
  return r;
}

async function installed(): Promise<string[]> {
  return (await readdir(join(home.home, "plugins")).catch(() => [])).filter((f) => f.endsWith(".json")).sort();
}

let fileCount = 0;
async function write(body: unknown, ext = ".json"): Promise<string> {
  const path = join(dir, `plugin-${fileCount++}${ext}`);
  await writeFile(path, typeof body === "string" ? body : JSON.stringify(body));
  return path;
}

const native = (...hosts: string[]) => ({ name: "acme", authType: "api_key", inject: hosts.map((host) => ({ host })) });
const v1 = (hostUrl: string | string[]) => ({ schema_version: 1, name: "acme", display_name: "Acme", auth_type: "api_key", flow: "api_key", host_url: hostUrl });

/** `providers add` fails with exit 1 and one error line naming the file and `field`, matching `why`. */
async function refused(body: unknown, field: string, why: RegExp, ext?: string): Promise<void> {
  const path = await write(body, ext);
  const r = await cli(["providers", "add", path]);
  const [line = "", ...rest] = r.stderr.trim().split("\n");
  assert.equal(r.code, 1, `${JSON.stringify(body)}: exit ${r.code}\n${r.stderr}`);
  // One error line, then at most the standard hint line; never a stack.
  assert.ok(line.startsWith(`error: plugin ${path}: field "${field}": `), `names file and field: ${line}`);
  assert.deepEqual(rest.map((l) => l.trim()), ["fix the plugin definition (see docs/plugins.md)"], r.stderr);
  assert.match(line, why);
}

/** Runs `check` over `items` a few at a time: each is a CLI start, and there are dozens. */
async function each<T>(items: readonly T[], check: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all([0, 1, 2].map(async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) await check(item);
  }));
}

const ANY = /matches (hosts of any domain|the empty host name)/;

test("every match-all regex is refused at providers add (native JSON), nothing installed", BOUND, async () => {
  await each(MATCH_ALL, (p) => refused(native(`regex:${p}`), "inject[0].host", ANY));
  assert.deepEqual(await installed(), []);
});

test("every match-all regex is refused in an authsome-v1 file (host_url)", BOUND, async () => {
  await each(MATCH_ALL, (p) => refused(v1(`regex:${p}`), "host_url", ANY));
  assert.deepEqual(await installed(), []);
});

test("a normal rule followed by regex:.* is refused, naming the second rule", BOUND, async () => {
  await refused(native("api.acme.example", "regex:.*"), "inject[1].host", /matches hosts of any domain/);
  await refused(v1(["api.acme.example", "regex:.*"]), "host_url[1]", /matches hosts of any domain/);
  await refused(native("api.acme.example", "*.acme.example", "regex:.+"), "inject[2].host", /matches hosts of any domain/);
  assert.deepEqual(await installed(), []);
});

test("wildcards and regexes over a public suffix, every IP, another domain's tail, a bare dot, and non-RE2 syntax are refused", BOUND, async () => {
  const cases: [unknown, string, RegExp][] = [
    [native("*"), "inject[0].host", /'\*' is only allowed as a leading/],
    [native("*.com"), "inject[0].host", /covers every host under the public suffix "com"/],
    [native("*.co.uk"), "inject[0].host", /covers every host under the public suffix "co\.uk"/],
    [native("api.acme.example", "*.github.io"), "inject[1].host", /public suffix "github\.io"/],
    [native("regex:.*\\.com"), "inject[0].host", /every host under the public suffix "com" \(e\.g\. "[a-z]+\.com"\)/],
    [v1("regex:[a-z0-9-]+\\.co\\.uk"), "host_url", /public suffix "co\.uk"/],
    [native("regex:\\d+\\.\\d+\\.\\d+\\.\\d+"), "inject[0].host", /IP addresses of any network/],
    [native("regex:acme\\.example.*"), "inject[0].host", /matches hosts outside its own domain \(e\.g\. "acme\.example\.[a-z0-9.-]+"\)/],
    [v1("regex:api.stripe\\.com"), "host_url", /unescaped "\." in "api\.stripe", which matches any character/],
    [native("regex:(a)\\1\\.acme\\.example"), "inject[0].host", /backreferences are not supported/],
    [native("regex:(?!evil)[a-z]+\\.acme\\.example"), "inject[0].host", /lookahead and lookbehind are not supported/],
  ];
  await each(cases, ([body, field, why]) => refused(body, field, why));
  assert.deepEqual(await installed(), []);
});

test("an API-key pattern RE2 cannot run is refused at providers add, naming the field", BOUND, async () => {
  await refused({ ...native("api.acme.example"), apiKey: { pattern: "^(?=sk-)\\w+$" } }, "apiKey.pattern", /lookahead and lookbehind are not supported/);
  await refused({ ...v1("api.acme.example"), api_key: { key_pattern: "(a)\\1" } }, "api_key.key_pattern", /backreferences are not supported/);
  assert.deepEqual(await installed(), []);
});

test("a module plugin with regex:.* is refused the same way", BOUND, async () => {
  const code = `export default { name: "acme", authType: "api_key", inject: [{ host: "api.acme.example" }, { host: "regex:.*" }] };\n`;
  await refused(code, "inject[1].host", /matches hosts of any domain/, ".mjs");
  assert.deepEqual(await installed(), []);
});

test("narrow regex rules install and load; the catastrophic (a+)+ one costs nothing", BOUND, async () => {
  const narrow = await write({ ...native("regex:^api[0-9]+\\.acme\\.example$", "regex:(a+)+"), name: "narrow" });
  const add = await cli(["providers", "add", narrow]);
  assert.equal(add.code, 0, add.stderr);
  const list = await cli(["providers", "list", "--json"]);
  assert.equal(list.code, 0, list.stderr);
  const body: unknown = JSON.parse(list.stdout);
  assert.ok(typeof body === "object" && body !== null && "providers" in body && Array.isArray(body.providers));
  assert.ok(body.providers.some((p: { name?: string }) => p.name === "narrow"), list.stdout);
  assert.ok("errors" in body && Array.isArray(body.errors) && body.errors.length === 0, list.stdout);
  await cli(["providers", "remove", "narrow"]);
});

test("a match-all rule put into the home by hand is refused at load, naming the file; the rest still list", BOUND, async () => {
  const file = join(home.home, "plugins", "sneaky.json");
  await mkdir(join(home.home, "plugins"), { recursive: true, mode: 0o700 });
  await writeFile(file, JSON.stringify({ ...native("api.sneaky.example", "regex:[\\s\\S]*"), name: "sneaky" }), { mode: 0o600 });
  const r = await cli(["providers", "list"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, new RegExp(`plugin refused: plugin ${file.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}: field "inject\\[1\\]\\.host": matches hosts of any domain`));
  assert.match(r.stdout, /^github\s/m, "bundled providers still listed");
  assert.doesNotMatch(r.stdout, /^sneaky\s/m);
  await rm(file);
});

test("issue 10's catastrophic rule: run --deny-unmatched answers a 41-character host at once", BOUND, async () => {
  // `(a+)+$` against "aaa...ab" is 2^40 steps for a backtracking engine (the run sat at full
  // CPU for minutes, deaf to SIGTERM); on RE2 it is 41. The proxy must decide and refuse.
  const plugin = await write({ ...native("regex:(a+)+$"), name: "redos" });
  assert.equal((await cli(["providers", "add", plugin])).code, 0);
  const host = `${"a".repeat(40)}b`;
  const r = await cli(["run", "--deny-unmatched", "--", "curl", "-s", "-o", "/dev/null", "-w", "%{http_connect}", "--max-time", "20", `https://${host}/`]);
  assert.equal(r.stdout, "403", `${r.stdout}\n${r.stderr}`);
  await cli(["providers", "remove", "redos"]);
});
