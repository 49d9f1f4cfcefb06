/**
 * The CLI's V8 code cache (src/runtime/code-cache.ts) as the installed package uses it: made
 * at the first run's exit in the user's cache directory, used (not rewritten) by the next,
 * replaced when damaged, never read from a directory others can write, and off with
 * AUTHSOME_CODE_CACHE=0. Each case has its own XDG_CACHE_HOME.
 */
import assert from "node:assert/strict";
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { runCli, tempHome } from "../helpers/cli.ts";
import { packageSkip } from "../helpers/package.ts";

let home: Awaited<ReturnType<typeof tempHome>>;
let root: string;
before(async () => {
  home = await tempHome();
  root = await mkdtemp(join(tmpdir(), "authsome-code-cache-"));
  const login = await runCli(["login", "openai"], { env: home.env, input: "sk-codecache1234567890abcdef\n" });
  assert.equal(login.code, 0, login.stderr);
});
after(async () => {
  await home.cleanup();
  await rm(root, { recursive: true, force: true });
});

/** `authsome get openai --field status` with this cache home; asserts its answer. */
async function get(cacheHome: string, extra: Record<string, string> = {}): Promise<void> {
  const r = await runCli(["get", "openai", "--field", "status"], { env: { ...home.env, XDG_CACHE_HOME: cacheHome, AUTHSOME_CODE_CACHE: "", ...extra } });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), "connected");
}

/** The cache files and their contents. */
async function caches(cacheHome: string): Promise<Map<string, Buffer>> {
  const dir = join(cacheHome, "authsome", "v8");
  const names = await readdir(dir).catch(() => [] as string[]);
  return new Map(await Promise.all(names.map(async (n) => [n, await readFile(join(dir, n))] as [string, Buffer])));
}

test("the first run leaves a cache of each merged script in a private directory; the next run uses it unchanged", { skip: packageSkip }, async () => {
  const cacheHome = join(root, "fresh");
  await get(cacheHome);
  const made = await caches(cacheHome);
  assert.equal(made.size, 2, `caches: ${[...made.keys()].join(", ")}`);
  for (const name of made.keys()) assert.match(name, /^merged-(lib|cli)-[0-9a-f]{16}\.js-\d+-\d+-.+\.bin$/);
  assert.equal((await stat(join(cacheHome, "authsome", "v8"))).mode & 0o777, 0o700);
  const times = await Promise.all([...made.keys()].map(async (n) => (await stat(join(cacheHome, "authsome", "v8", n))).mtimeMs));
  await get(cacheHome);
  // A cache V8 refused would be written again at exit.
  const again = await caches(cacheHome);
  assert.deepEqual([...again.keys()], [...made.keys()]);
  assert.deepEqual(await Promise.all([...again.keys()].map(async (n) => (await stat(join(cacheHome, "authsome", "v8", n))).mtimeMs)), times);
});

test("a damaged cache is refused: the run answers as usual and writes a good one", { skip: packageSkip }, async () => {
  const cacheHome = join(root, "damaged");
  await get(cacheHome);
  const dir = join(cacheHome, "authsome", "v8");
  const made = await caches(cacheHome);
  // The digest and V8's header kept, the rest overwritten (Deno 2.9's V8 aborts on such a cache).
  const damaged = new Map([...made].map(([name, data]) => [name, Buffer.concat([data.subarray(0, 96), Buffer.alloc(data.length - 96, 0x5a)])]));
  for (const [name, data] of damaged) await writeFile(join(dir, name), data);
  await get(cacheHome);
  const rewritten = await caches(cacheHome);
  for (const [name, data] of damaged) assert.equal(rewritten.get(name)?.equals(data), false, `${name} was left damaged`);
  // The new one is good: V8 takes it, so the next run does not write it again.
  const times = await Promise.all([...rewritten.keys()].map(async (n) => (await stat(join(dir, n))).mtimeMs));
  await get(cacheHome);
  assert.deepEqual(await Promise.all([...rewritten.keys()].map(async (n) => (await stat(join(dir, n))).mtimeMs)), times);
});

test("a cache directory others can write is neither read nor written", { skip: packageSkip }, async () => {
  const cacheHome = join(root, "shared");
  const dir = join(cacheHome, "authsome", "v8");
  await mkdir(dir, { recursive: true });
  await chmod(dir, 0o777);
  await get(cacheHome);
  assert.equal((await caches(cacheHome)).size, 0);
});

test("AUTHSOME_CODE_CACHE=0 (or off) leaves no cache", { skip: packageSkip }, async () => {
  for (const value of ["0", "off"]) {
    const cacheHome = join(root, `off-${value}`);
    await get(cacheHome, { AUTHSOME_CODE_CACHE: value });
    assert.equal((await caches(cacheHome)).size, 0, value);
  }
});
