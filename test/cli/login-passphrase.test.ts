/**
 * Passphrase mode at a terminal (a real pty): the passphrase is asked for, hidden, instead of
 * failing; three wrong answers end with a clear error; without a terminal the error says how
 * to supply it; `whoami` reports the mode without unlocking anything.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { runCli, tempHome } from "../helpers/cli.ts";
import { noBrowserEnv, ptySkip, runOnPty } from "../helpers/pty.ts";

const PASSPHRASE = "correct horse battery";
const KEY = "sk-passphrasepty000000000000";
let home: Awaited<ReturnType<typeof tempHome>>;

before(async () => {
  home = await tempHome();
  const r = await runCli(["login", "openai"], { env: { ...home.env, AUTHSOME_PASSPHRASE: PASSPHRASE }, input: KEY });
  assert.equal(r.code, 0, r.stderr);
});
after(() => home.cleanup());

test("at a terminal the passphrase is asked for (hidden) and opens the vault", { skip: ptySkip }, async () => {
  const pty = runOnPty(["get", "openai", "--field", "api_key", "--show-secret"], noBrowserEnv(home.env));
  await pty.waitFor(/Passphrase for \S+master\.key: $/);
  pty.type(`${PASSPHRASE}\r`);
  assert.equal(await pty.exited, 0, pty.output());
  assert.match(pty.output(), new RegExp(`\\n${KEY}\\r?\\n`));
  assert.ok(!pty.output().includes(PASSPHRASE), "the passphrase is not echoed");
});

test("three wrong passphrases end with a clear error", { skip: ptySkip }, async () => {
  const pty = runOnPty(["get", "openai", "--field", "api_key", "--show-secret"], noBrowserEnv(home.env));
  await pty.waitFor(/Passphrase for \S+: $/);
  pty.type("wrong horse one\r");
  await pty.waitFor(/Wrong passphrase; try again \(2 left\): $/);
  pty.type("wrong horse two\r");
  await pty.waitFor(/Wrong passphrase; try again \(1 left\): $/);
  pty.type("wrong horse three\r");
  assert.equal(await pty.exited, 1, pty.output());
  assert.match(pty.output(), /error: 3 wrong passphrases: \S+master\.key stays locked/);
  assert.ok(!pty.output().includes(KEY), "nothing was shown");
});

test("not at a terminal and no AUTHSOME_PASSPHRASE: one line saying how to supply it", async () => {
  const r = await runCli(["get", "openai", "--show-secret"], { env: { ...home.env, AUTHSOME_PASSPHRASE: undefined } });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /error: \S+master\.key is protected by a passphrase\n  set AUTHSOME_PASSPHRASE, or run the command at a terminal to be asked for it\n$/);
  assert.equal(r.stdout, "");
});

test("whoami reports passphrase mode without unlocking (no prompt, no passphrase)", async () => {
  const r = await runCli(["whoami", "--json"], { env: { ...home.env, AUTHSOME_PASSPHRASE: undefined } });
  assert.equal(r.code, 0, r.stderr);
  const info = JSON.parse(r.stdout) as { key_mode: string; key_source: string };
  assert.equal(info.key_mode, "passphrase (locked)");
  assert.match(info.key_source, /master\.key \(passphrase-protected\)$/);
});

test("whoami at a terminal does not ask for the passphrase", { skip: ptySkip }, async () => {
  const pty = runOnPty(["whoami"], noBrowserEnv(home.env));
  assert.equal(await pty.exited, 0, pty.output());
  assert.match(pty.output(), /key_mode\s+passphrase \(locked\)/);
  assert.doesNotMatch(pty.output(), /Passphrase for/);
});
