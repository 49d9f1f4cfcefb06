/**
 * The master key in the OS keyring (issue 11 part 8), against a real Secret Service
 * (gnome-keyring-daemon on a private session bus), through the installed CLI on Node and Deno:
 * a new home's key goes there and the home holds only a pointer; whoami names the entry without
 * calling the keyring; an existing master.key keeps being used; AUTHSOME_MASTER_KEY wins; an
 * unreachable keyring fails in one line and never makes a new key; a hung bus is cut at the
 * deadline; with no bus at all a new home falls back to master.key and says so.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { runCli, tempHome } from "../helpers/cli.ts";
import { type SecretService, secretServiceMissing, startSecretService } from "../helpers/secret-service.ts";

const missing = secretServiceMissing();
if (missing !== undefined) console.log(`# skipping the Secret Service tests: ${missing}`);
let service: SecretService | undefined;

before(async () => {
  if (missing === undefined) service = await startSecretService();
});
after(async () => {
  await service?.stop();
});

const KEY = "sk-keyring-0123456789abcdefghij";
/** The CLI's environment with the keyring on: the test's bus, and no inherited switch. */
const withBus = (env: Record<string, string>) => ({ ...env, ...service?.env, AUTHSOME_KEYRING: undefined, XDG_RUNTIME_DIR: undefined });
/** The CLI's environment with no session bus at all. */
const noBus = (env: Record<string, string>) => ({ ...env, DBUS_SESSION_BUS_ADDRESS: undefined, XDG_RUNTIME_DIR: undefined, AUTHSOME_KEYRING: undefined });

test("a new home's key goes to the Secret Service; the home holds a pointer only; whoami names the entry; records read back", { skip: missing }, async () => {
  const h = await tempHome();
  try {
    const login = await runCli(["login", "openai"], { env: withBus(h.env), input: KEY });
    assert.equal(login.code, 0, login.stderr);
    assert.doesNotMatch(login.stderr, /keyring not used/);
    assert.equal(existsSync(join(h.home, "master.key")), false, "no key file beside a keyring key");
    const pointer = JSON.parse(await readFile(join(h.home, "master.keyring"), "utf8")) as Record<string, unknown>;
    assert.deepEqual(Object.keys(pointer).sort(), ["account", "service", "v"]);
    assert.equal(pointer["service"], "authsome");

    // The entry is really in the keyring: seen from outside authsome, holding a 256-bit key.
    const found = service!.secretTool(["search", "--all", "service", "authsome"]);
    assert.equal(found.code, 0);
    assert.ok(found.stdout.includes(String(pointer["account"])), `secret-tool does not list ${String(pointer["account"])}`);

    const who = await runCli(["whoami", "--json"], { env: withBus(h.env) });
    assert.equal(who.code, 0, who.stderr);
    const info = JSON.parse(who.stdout) as { key_mode: string; key_source: string };
    assert.equal(info.key_mode, "keyring");
    assert.match(info.key_source, /Secret Service, service "authsome", account ".+" \(named by .*master\.keyring\)/);

    const get = await runCli(["get", "openai", "--field", "api_key", "--show-secret"], { env: withBus(h.env) });
    assert.equal(get.code, 0, get.stderr);
    assert.equal(get.stdout.trim(), KEY);

    // whoami never calls the keyring: it answers with no bus at all.
    const offline = await runCli(["whoami", "--json"], { env: noBus(h.env) });
    assert.equal(offline.code, 0, offline.stderr);
    assert.equal((JSON.parse(offline.stdout) as { key_mode: string }).key_mode, "keyring");

    // Without the keyring the command fails in one line naming the entry, and makes no new key.
    const failed = await runCli(["get", "openai", "--show-secret"], { env: noBus(h.env) });
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /master key is in the OS keyring .*account ".+".*no D-Bus session bus/);
    assert.doesNotMatch(failed.stderr, /\n\s+at /, "a stack trace");
    assert.equal(existsSync(join(h.home, "master.key")), false, "a new key was made although the home has one");
    const json = await runCli(["get", "openai", "--json"], { env: noBus(h.env) });
    assert.equal((JSON.parse(json.stdout) as { error: string }).error, "keyring_unavailable");

    const doctor = await runCli(["doctor", "--json"], { env: withBus(h.env) });
    const checks = (JSON.parse(doctor.stdout) as { checks: { name: string; ok: boolean; detail: string }[] }).checks;
    const custody = checks.find((c) => c.name === "master key");
    assert.ok(custody?.ok === true && custody.detail.startsWith("keyring: Secret Service"), JSON.stringify(custody));
    assert.equal(checks.find((c) => c.name === "vault key")?.ok, true);
    assert.match(checks.find((c) => c.name === "master key permissions")?.detail ?? "", /master\.keyring has mode 600/);
  } finally {
    await h.cleanup();
  }
});

test("an existing master.key keeps being used with a keyring at hand; AUTHSOME_MASTER_KEY wins over both", { skip: missing }, async () => {
  const h = await tempHome();
  try {
    assert.equal((await runCli(["login", "openai"], { env: { ...withBus(h.env), AUTHSOME_KEYRING: "0" }, input: KEY })).code, 0);
    assert.ok(existsSync(join(h.home, "master.key")));
    const get = await runCli(["get", "openai", "--field", "api_key", "--show-secret"], { env: withBus(h.env) });
    assert.equal(get.stdout.trim(), KEY, get.stderr);
    assert.equal(existsSync(join(h.home, "master.keyring")), false, "the key was moved silently");
    const who = JSON.parse((await runCli(["whoami", "--json"], { env: withBus(h.env) })).stdout) as { key_mode: string; key_source: string };
    assert.deepEqual([who.key_mode, who.key_source], ["file", join(h.home, "master.key")]);

    const fileKey = (await readFile(join(h.home, "master.key"), "utf8")).trim();
    const env = { ...withBus(h.env), AUTHSOME_MASTER_KEY: fileKey };
    const viaEnv = JSON.parse((await runCli(["whoami", "--json"], { env })).stdout) as { key_mode: string; key_source: string };
    assert.deepEqual([viaEnv.key_mode, viaEnv.key_source], ["env", "AUTHSOME_MASTER_KEY"]);
  } finally {
    await h.cleanup();
  }
});

test("no session bus: a new home's key goes to master.key (0600), saying so once; whoami says file", async () => {
  const h = await tempHome();
  try {
    const before = JSON.parse((await runCli(["whoami", "--json"], { env: noBus(h.env) })).stdout) as { key_mode: string; key_source: string };
    assert.equal(before.key_mode, "not created yet");
    assert.match(before.key_source, /master\.key on first use \(keyring: no D-Bus session bus/);
    const login = await runCli(["login", "openai"], { env: noBus(h.env), input: KEY });
    assert.equal(login.code, 0, login.stderr);
    assert.match(login.stderr, /OS keyring not used \(.*no D-Bus session bus.*\); the new master key is kept in .*master\.key \(mode 0600\)/);
    assert.equal(existsSync(join(h.home, "master.keyring")), false);
    const who = JSON.parse((await runCli(["whoami", "--json"], { env: noBus(h.env) })).stdout) as { key_mode: string; key_source: string };
    assert.deepEqual([who.key_mode, who.key_source], ["file", join(h.home, "master.key")]);
    const again = await runCli(["get", "openai", "--field", "api_key", "--show-secret"], { env: noBus(h.env) });
    assert.equal(again.stdout.trim(), KEY);
    assert.doesNotMatch(again.stderr, /keyring/, "the notice is for the home's creation only");
  } finally {
    await h.cleanup();
  }
});

test("a hung session bus is cut at AUTHSOME_KEYRING_TIMEOUT with one line, not a hang", { skip: missing }, async () => {
  const h = await tempHome();
  // A bus that accepts connections and never answers: the binding blocks in its constructor.
  const held: Socket[] = [];
  const path = join(tmpdir(), `authsome-hung-bus-${process.pid}-${Date.now()}.sock`);
  const server = createServer((socket) => void held.push(socket));
  await new Promise<void>((resolve) => server.listen(path, resolve));
  try {
    assert.equal((await runCli(["login", "openai"], { env: withBus(h.env), input: KEY })).code, 0);
    const started = Date.now();
    const hung = await runCli(["get", "openai", "--show-secret"], { env: { ...withBus(h.env), DBUS_SESSION_BUS_ADDRESS: `unix:path=${path}`, AUTHSOME_KEYRING_TIMEOUT: "1" } });
    const took = Date.now() - started;
    assert.equal(hung.code, 1, hung.stderr);
    assert.match(hung.stderr, /did not answer within 1 s/);
    // One line saying what happened, and the indented hint under it.
    assert.deepEqual(hung.stderr.trim().split("\n").map((l) => (l.startsWith("error:") ? "error" : /^\s/.test(l) ? "hint" : l)), ["error", "hint"], hung.stderr);
    assert.ok(took < 8_000, `took ${took} ms`);
    assert.equal(existsSync(join(h.home, "master.key")), false);
  } finally {
    for (const socket of held) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
    await h.cleanup();
  }
});

/** This home's entries in the test keyring, seen from outside authsome. */
function entriesOf(home: string): string[] {
  const found = service!.secretTool(["search", "--all", "service", "authsome"]);
  return [...found.stdout.matchAll(/^label = keyring:(.+)@authsome$/gm)].map((m) => m[1] ?? "").filter((account) => account.startsWith(`${home} `));
}

test("key rotate: file -> keyring -> keyring (killed at random moments) -> file; records always read; old entries deleted", { skip: missing }, async () => {
  const h = await tempHome();
  const env = withBus(h.env);
  const names = ["a", "b"];
  const readAll = async (when: string) => {
    for (const name of names) {
      const r = await runCli(["get", "openai", "--connection", name, "--field", "api_key", "--show-secret"], { env });
      assert.equal(r.stdout.trim(), `${KEY}-${name}`, `${when}: ${name}: ${r.stderr}`);
    }
  };
  try {
    for (const name of names) assert.equal((await runCli(["login", "openai", "--connection", name], { env: { ...env, AUTHSOME_KEYRING: "0" }, input: `${KEY}-${name}` })).code, 0);
    const toKeyring = await runCli(["key", "rotate", "--to", "keyring"], { env });
    assert.equal(toKeyring.code, 0, toKeyring.stderr);
    assert.equal(existsSync(join(h.home, "master.key")), false, "the key file is left after moving to the keyring");
    const first = (JSON.parse(await readFile(join(h.home, "master.keyring"), "utf8")) as { account: string }).account;
    assert.deepEqual(entriesOf(h.home), [first]);
    await readAll("after --to keyring");

    const started = Date.now();
    assert.equal((await runCli(["key", "rotate"], { env })).code, 0);
    const rotation = Date.now() - started;
    // Start-up is most of a command's life: kills are drawn from after a bare start (whoami,
    // which calls no keyring) to the end of a whole rotation, where the switching happens.
    const bare = Date.now();
    assert.equal((await runCli(["whoami"], { env })).code, 0);
    const from = Math.min(rotation, (Date.now() - bare) * 0.9);
    const window = Math.max(50, rotation * 1.05 - from);
    const second = (JSON.parse(await readFile(join(h.home, "master.keyring"), "utf8")) as { account: string }).account;
    assert.notEqual(second, first);
    assert.deepEqual(entriesOf(h.home), [second], "the old entry is still in the keyring");

    const { spawn } = await import("node:child_process");
    const { cliCommand } = await import("../helpers/cli.ts");
    let seed = 97;
    // Each round moves the key (keyring -> file -> keyring ...) and is killed at a random moment,
    // then a plain rotation finishes whatever it left, so every kind of switch is cut somewhere.
    let midway = 0;
    let killed = 0;
    // A rotation that ended before its kill narrows the window to the time it took, so on a
    // machine faster or slower than the measured one later kills still land inside a rotation;
    // rounds go on (at most 16) until 4 were killed.
    let end = from + window;
    let round = 0;
    for (; round < 16 && (round < 8 || killed < 4); round++) {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      const { command, args } = cliCommand();
      const to = round % 2 === 0 ? "file" : "keyring";
      const child = spawn(command, [...args, "key", "rotate", "--to", to], { env: { ...process.env, ...env, XDG_RUNTIME_DIR: "" }, stdio: "ignore" });
      const exited = new Promise((resolve) => child.once("exit", resolve));
      // The delay picks the moment of the kill; it synchronises nothing.
      const spawned = Date.now();
      const timer = setTimeout(() => child.kill("SIGKILL"), Math.floor(from + (seed / 2147483648) * (end - from)));
      const code = (await exited) as number | null;
      clearTimeout(timer);
      if (code === null) killed++;
      else end = Math.max(from + 20, Math.min(end, Date.now() - spawned));
      if (existsSync(join(h.home, "master.key.next")) || existsSync(join(h.home, "master.keyring.next"))) midway++;
      await readAll(`after round ${round} (--to ${to})`);
      const finished = await runCli(["key", "rotate"], { env });
      assert.equal(finished.code, 0, `round ${round}: ${finished.stderr}`);
    }

    assert.ok(killed >= 4, `only ${killed} of ${round} rotations were killed before they ended: the test proved little`);
    console.log(`# ${killed} of ${round} keyring rotations killed, ${midway} with a pending key left`);
    // A round killed midway left its pending key: a plain rotation finishes it first.
    const finish = await runCli(["key", "rotate"], { env });
    assert.equal(finish.code, 0, finish.stderr);
    const toFile = await runCli(["key", "rotate", "--to", "file"], { env });
    assert.equal(toFile.code, 0, toFile.stderr);
    assert.equal(existsSync(join(h.home, "master.keyring")), false);
    assert.deepEqual(entriesOf(h.home), [], "entries of this home are left in the keyring");
    const who = JSON.parse((await runCli(["whoami", "--json"], { env })).stdout) as { key_mode: string; key_rotation?: string };
    assert.deepEqual([who.key_mode, who.key_rotation], ["file", undefined]);
    await readAll("after --to file");
  } finally {
    await h.cleanup();
  }
});
