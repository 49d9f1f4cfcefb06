/**
 * `authsome serve` in passphrase mode: on a real pty it asks once (hidden) and holds the
 * unlocked key, so `authsome run` without AUTHSOME_PASSPHRASE injects through it; without a
 * terminal or a passphrase it fails at start in one line; the key is never written anywhere.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { encodeBase64, encodeHexLowerCase } from "@oslojs/encoding";
import { unprotectKey } from "../../src/core/passphrase.ts";
import { runCliBounded } from "../helpers/bounded-cli.ts";
import { cliCommand, runCli, tempHome } from "../helpers/cli.ts";
import { startHomeWithUpstream } from "../helpers/cli-upstream.ts";
import type { TestUpstream } from "../helpers/proxy-upstream.ts";
import { noBrowserEnv, ptySkip, runOnPty } from "../helpers/pty.ts";

const PASSPHRASE = "daemon holds this one";
const KEY = "acme-key-served-0001";
const OTHER_KEY = "acme-key-other-profile-0002";
let home: Awaited<ReturnType<typeof tempHome>>;
let upstream: TestUpstream;
/** The home's environment, without AUTHSOME_PASSPHRASE. */
let env: Record<string, string | undefined>;
let base: string;

before(async () => {
  const started = await startHomeWithUpstream(["api"]);
  ({ home, upstream, base } = started);
  env = { ...started.env, AUTHSOME_PASSPHRASE: undefined };
  const plugin = join(home.home, "acme.json");
  await writeFile(plugin, JSON.stringify({ name: "acme", authType: "api_key", inject: [{ host: "api.example.test" }], env: { ACME_API_KEY: "api_key" } }));
  const steps = [["providers", "add", plugin], ["login", "acme"], ["profile", "create", "other"], ["login", "acme", "--profile", "other"]];
  for (const args of steps) {
    const r = await runCli(args, { env: { ...env, AUTHSOME_PASSPHRASE: PASSPHRASE }, input: args.includes("other") ? OTHER_KEY : KEY });
    assert.equal(r.code, 0, r.stderr);
  }
  const keyFile = readFileSync(join(home.home, "master.key"), "utf8");
  assert.ok(keyFile.trimStart().startsWith("{"), "the home's master key is passphrase-protected");
});
after(async () => {
  await upstream.close();
  await home.cleanup();
});

/** Every byte under the home, for the "never on disk" check. */
function homeBytes(dir: string): string {
  let all = "";
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    all += statSync(path).isDirectory() ? homeBytes(path) : readFileSync(path, "latin1");
  }
  return all;
}

test("serve at a terminal asks once, holds the key, and `authsome run` without a passphrase injects through it", { skip: ptySkip }, async () => {
  const daemon = runOnPty(["serve", "--port", "0"], noBrowserEnv(env as Record<string, string>), 90_000);
  try {
    await daemon.waitFor(/Passphrase for \S+master\.key: $/, 30_000);
    daemon.type(`${PASSPHRASE}\r`);
    await daemon.waitFor(/listening on http:\/\/127\.0\.0\.1:\d+/, 30_000);
    // Not a terminal, no AUTHSOME_PASSPHRASE: on its own this run could not open the vault.
    const r = await runCli(["run", "--", "curl", "-sS", "--fail", `${base}/served`], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /hosted by the daemon at http:\/\/127\.0\.0\.1:\d+\); injecting for acme/);
    assert.equal(upstream.requests.find((q) => q.url === "/served")?.headers.authorization, `Bearer ${KEY}`);
    // The daemon makes the other profile's service only now; it opens with the held key, no prompt.
    const other = await runCli(["--profile", "other", "run", "--", "curl", "-sS", "--fail", `${base}/served-other`], { env });
    assert.equal(other.code, 0, other.stderr);
    assert.equal(upstream.requests.find((q) => q.url === "/served-other")?.headers.authorization, `Bearer ${OTHER_KEY}`);
    const alone = await runCli(["get", "acme", "--show-secret"], { env });
    assert.equal(alone.code, 1, "a command that does not go through the daemon still needs the passphrase");
    assert.match(alone.stderr, /master\.key is protected by a passphrase/);
    assert.equal(daemon.output().match(/Passphrase for/g)?.length, 1, "asked once, not per request");
    assert.ok(!daemon.output().includes(PASSPHRASE), "the passphrase is not echoed");
  } finally {
    daemon.type("\x03");
  }
  await daemon.waitFor(/daemon stopped/, 20_000);
  await daemon.exited;
  // The unlocked key, in every form it could be written, is nowhere in the home or the output.
  const raw = await unprotectKey(readFileSync(join(home.home, "master.key"), "utf8"), PASSPHRASE, "master.key");
  const bytes = homeBytes(home.home);
  for (const form of [encodeBase64(raw), encodeHexLowerCase(raw), Buffer.from(raw).toString("latin1")]) {
    assert.ok(!bytes.includes(form), "the unlocked key is not on disk");
    assert.ok(!daemon.output().includes(form), "the unlocked key is not in the daemon's output");
  }
});

test("serve not at a terminal and without AUTHSOME_PASSPHRASE fails at start, in one line", async () => {
  const r = await runCliBounded(["serve", "--port", "0"], { env, limitMs: 20_000 });
  assert.equal(r.killed, false, "serve did not start and wait");
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /^error: \S+master\.key is protected by a passphrase and authsome serve is not at a terminal to ask for it\n {2}set AUTHSOME_PASSPHRASE for the daemon, or start it at a terminal: it asks once and holds the unlocked key\n$/);
  assert.doesNotMatch(r.stderr, /listening/);
  assert.equal(r.stdout, "");
});

test("serve with a wrong AUTHSOME_PASSPHRASE fails at start, not at the first request", async () => {
  const r = await runCliBounded(["serve", "--port", "0"], { env: { ...env, AUTHSOME_PASSPHRASE: "not the passphrase" }, limitMs: 20_000 });
  assert.equal(r.killed, false);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /^error: the passphrase does not open \S+master\.key\n/);
  assert.doesNotMatch(r.stderr, /listening/);
});

test("serve with AUTHSOME_PASSPHRASE (no terminal) holds the key for every profile's runs", async () => {
  const { command, args } = cliCommand();
  const childEnv: Record<string, string> = { NO_COLOR: "1" };
  for (const [k, v] of Object.entries({ ...process.env, ...env, AUTHSOME_PASSPHRASE: PASSPHRASE })) if (v !== undefined) childEnv[k] = v;
  const daemon = spawn(command, [...args, "serve", "--port", "0"], { env: childEnv, stdio: ["ignore", "pipe", "pipe"] });
  let daemonErr = "";
  const exited = new Promise<number>((resolve) => daemon.on("close", (code) => resolve(code ?? -1)));
  const listening = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not listen within 30 s:\n${daemonErr}`)), 30_000);
    daemon.stderr.on("data", (d) => {
      daemonErr += d;
      if (daemonErr.includes("listening on")) (clearTimeout(timer), resolve());
    });
    void exited.then(() => (clearTimeout(timer), reject(new Error(`serve exited:\n${daemonErr}`))));
  });
  try {
    await listening;
    // The other profile's service is made by the daemon at this request, after start-up: it opens with the held key.
    for (const [profile, path, key] of [[undefined, "/env-default", KEY], ["other", "/env-other", OTHER_KEY]] as const) {
      const r = await runCli([...(profile === undefined ? [] : ["--profile", profile]), "run", "--", "curl", "-sS", "--fail", `${base}${path}`], { env });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /hosted by the daemon/);
      assert.equal(upstream.requests.find((q) => q.url === path)?.headers.authorization, `Bearer ${key}`);
    }
  } finally {
    daemon.kill("SIGTERM");
  }
  await exited;
  assert.match(daemonErr, /daemon stopped/);
  assert.ok(!daemonErr.includes(PASSPHRASE));
});
