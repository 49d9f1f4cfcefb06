/**
 * A `master.key` that is not a small regular file (a FIFO someone put there, a huge file) must
 * not hang or stall any command: each says so at once, in one line naming the file.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { runCliBounded } from "../helpers/bounded-cli.ts";
import { tempHome } from "../helpers/cli.ts";

const fifoSkip = spawnSync("mkfifo", ["--version"]).status === 0 ? false : "mkfifo is not installed";
let fifoHome: Awaited<ReturnType<typeof tempHome>>;
let hugeHome: Awaited<ReturnType<typeof tempHome>>;

before(async () => {
  fifoHome = await tempHome();
  hugeHome = await tempHome();
  if (fifoSkip === false) assert.equal(spawnSync("mkfifo", ["-m", "600", join(fifoHome.home, "master.key")]).status, 0);
  writeFileSync(join(hugeHome.home, "master.key"), "A".repeat(2 * 1024 * 1024), { mode: 0o600 });
});
after(async () => {
  await fifoHome.cleanup();
  await hugeHome.cleanup();
});

// A read of the FIFO would block until a writer opens it: the bound turns a regression into a failure.
const COMMANDS: { args: string[]; input?: string }[] = [
  { args: ["login", "openai"], input: "sk-fifo000000000000000000" },
  { args: ["get", "openai"] },
  { args: ["list"] },
  { args: ["serve", "--port", "0"] },
];

for (const { args, input } of COMMANDS) {
  test(`a FIFO at master.key: \`${args.join(" ")}\` answers at once in one line naming it`, { skip: fifoSkip }, async () => {
    const r = await runCliBounded(args, { env: { ...fifoHome.env, AUTHSOME_PASSPHRASE: undefined }, limitMs: 15_000, ...(input === undefined ? {} : { input }) });
    assert.equal(r.killed, false, `hung for ${Math.round(r.ms)} ms`);
    assert.equal(r.code, 1, r.stderr);
    const path = join(fifoHome.home, "master.key").replaceAll(/[.*+?^${}()|[\]\\]/g, "\\$&");
    assert.match(r.stderr, new RegExp(`^error: ${path} is not a regular file( of at most 64 KiB)?\\n {2}move it aside; authsome writes only regular files\\n$`));
  });
}

test("whoami with a FIFO at master.key reports it instead of hanging", { skip: fifoSkip }, async () => {
  const r = await runCliBounded(["whoami"], { env: fifoHome.env, limitMs: 15_000 });
  assert.equal(r.killed, false, `hung for ${Math.round(r.ms)} ms`);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /master\.key is not a regular file/);
});

test("a 2 MiB master.key is refused by size, naming the file", async () => {
  const r = await runCliBounded(["get", "openai"], { env: hugeHome.env, limitMs: 15_000 });
  assert.equal(r.killed, false);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /^error: \S+master\.key is larger than 64 KiB\n {2}move it aside\n$/);
});
