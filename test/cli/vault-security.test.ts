/**
 * At-rest protection through the real CLI: no plaintext key anywhere in the home, tampering
 * and moved ciphertexts detected per record, a wrong master key refused with no partial output,
 * and homes and profiles isolated from each other.
 */
import assert from "node:assert/strict";
import { readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { runCli, tempHome } from "../helpers/cli.ts";

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(path)));
    else out.push(path);
  }
  return out;
}

async function recordFile(home: string, provider: string, connection: string): Promise<string> {
  const files = await filesUnder(home);
  const found = files.find((f) => f.includes(`/conn/${provider}/`) && (f.endsWith(`/${connection}.rec`) || f.endsWith(`/${connection}`)));
  assert.ok(found, `record file for ${provider}/${connection} among ${files.join(", ")}`);
  return found;
}

test("a stored key appears nowhere in the home in plaintext (nor base64/hex)", async () => {
  const h = await tempHome();
  try {
    const key = "sk-ant-api03-UNIQUEplaintextMARKER-0123456789";
    const r = await runCli(["login", "anthropic"], { env: h.env, input: key });
    assert.equal(r.code, 0, r.stderr);
    await runCli(["get", "anthropic", "--field", "api_key", "--show-secret"], { env: h.env });
    const needles = [key, Buffer.from(key).toString("base64"), Buffer.from(key).toString("hex"), "UNIQUEplaintextMARKER"];
    const files = await filesUnder(h.home);
    assert.ok(files.length > 3, "the home holds the store, key and audit log");
    for (const file of files) {
      const content = await readFile(file, "latin1");
      for (const needle of needles) assert.ok(!content.includes(needle), `${file} contains the key`);
    }
    const record = await recordFile(h.home, "anthropic", "default");
    assert.equal((await stat(record)).mode & 0o777, 0o600);
    assert.equal((await stat(join(h.home, "master.key"))).mode & 0o777, 0o600);
  } finally {
    await h.cleanup();
  }
});

test("edited or moved ciphertexts fail with the record named; other records still read", async () => {
  const h = await tempHome();
  try {
    for (const [name, key] of [["a", "sk-aaaaaaaaaaaaaaaaaaaaaaaa"], ["b", "sk-bbbbbbbbbbbbbbbbbbbbbbbb"], ["c", "sk-cccccccccccccccccccccccc"]]) {
      const r = await runCli(["login", "openai", "--connection", name ?? ""], { env: h.env, input: key });
      assert.equal(r.code, 0, r.stderr);
    }
    const fileA = await recordFile(h.home, "openai", "a");
    const stored = JSON.parse(await readFile(fileA, "utf8")) as { secrets: { ct: string } };
    const ct = Buffer.from(stored.secrets.ct, "base64");
    ct[3] = (ct[3] ?? 0) ^ 0x01;
    stored.secrets.ct = ct.toString("base64");
    await writeFile(fileA, JSON.stringify(stored));

    let r = await runCli(["get", "openai", "--connection", "a", "--show-secret"], { env: h.env });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /connection openai\/a \(\S+\/conn\/openai\/a\.rec\) failed its integrity check/);
    assert.equal(r.stdout, "");

    // Move b's sealed secrets into c's record: c must refuse them.
    const fileB = await recordFile(h.home, "openai", "b");
    const fileC = await recordFile(h.home, "openai", "c");
    const b = JSON.parse(await readFile(fileB, "utf8")) as { secrets: unknown };
    const c = JSON.parse(await readFile(fileC, "utf8")) as { secrets: unknown };
    c.secrets = b.secrets;
    await writeFile(fileC, JSON.stringify(c));
    r = await runCli(["get", "openai", "--connection", "c", "--show-secret"], { env: h.env });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /openai\/c \(\S+\) failed its integrity check/);

    r = await runCli(["get", "openai", "--connection", "b", "--field", "api_key", "--show-secret"], { env: h.env });
    assert.equal(r.stdout, "sk-bbbbbbbbbbbbbbbbbbbbbbbb\n", "an untouched record still reads");

    // Edited metadata (a later expiry, say) is bound into the ciphertext too.
    const meta = JSON.parse(await readFile(fileB, "utf8")) as { meta: { flow: string } };
    meta.meta.flow = "edited";
    await writeFile(fileB, JSON.stringify(meta));
    r = await runCli(["get", "openai", "--connection", "b", "--show-secret"], { env: h.env });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /openai\/b \(\S+\) failed its integrity check/);
  } finally {
    await h.cleanup();
  }
});

test("a wrong master key is refused clearly, with no partial output", async () => {
  const h = await tempHome();
  try {
    const good = Buffer.alloc(32, 7).toString("base64");
    let r = await runCli(["login", "openai"], { env: { ...h.env, AUTHSOME_MASTER_KEY: good }, input: "sk-wrongkeytest000000000000" });
    assert.equal(r.code, 0, r.stderr);
    const wrong = Buffer.alloc(32, 9).toString("base64");
    r = await runCli(["get", "openai", "--show-secret"], { env: { ...h.env, AUTHSOME_MASTER_KEY: wrong } });
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /master key does not open profile "default"/);
    r = await runCli(["get", "openai", "--show-secret", "--json"], { env: { ...h.env, AUTHSOME_MASTER_KEY: wrong } });
    assert.equal((JSON.parse(r.stdout) as { error: string }).error, "master_key_invalid");
    r = await runCli(["get", "openai"], { env: { ...h.env, AUTHSOME_MASTER_KEY: "short" } });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /AUTHSOME_MASTER_KEY is not a 256-bit key/);
  } finally {
    await h.cleanup();
  }
});

test("two homes and two profiles see nothing of each other", async () => {
  const one = await tempHome();
  const two = await tempHome();
  try {
    let r = await runCli(["login", "openai"], { env: one.env, input: "sk-homeone000000000000000000" });
    assert.equal(r.code, 0, r.stderr);
    r = await runCli(["get", "openai"], { env: two.env });
    assert.equal(r.code, 3, "the other home has no connection");
    r = await runCli(["profile", "create", "reviewer"], { env: one.env });
    assert.equal(r.code, 0, r.stderr);
    r = await runCli(["get", "openai", "--profile", "reviewer"], { env: one.env });
    assert.equal(r.code, 3, "another profile of the same home has no connection");
    r = await runCli(["login", "openai", "--profile", "reviewer"], { env: one.env, input: "sk-reviewer00000000000000000" });
    assert.equal(r.code, 0, r.stderr);
    r = await runCli(["get", "openai", "--field", "api_key", "--show-secret"], { env: one.env });
    assert.equal(r.stdout, "sk-homeone000000000000000000\n");
    r = await runCli(["audit", "--json", "--profile", "reviewer"], { env: one.env });
    const { entries } = JSON.parse(r.stdout) as { entries: { action: string }[] };
    assert.ok(entries.every((e) => e.action !== "get_secret"), "the reviewer's audit log holds only its own actions");
    assert.notEqual(await readFile(join(one.home, "master.key"), "utf8"), await readFile(join(two.home, "master.key"), "utf8").catch(() => ""));
  } finally {
    await one.cleanup();
    await two.cleanup();
  }
});
