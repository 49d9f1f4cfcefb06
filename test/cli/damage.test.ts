/**
 * Damage contained (issue 11, part 3), through the installed CLI: a damaged default pointer or
 * connection record affects only itself, `doctor` names it, `doctor --repair` says what it will
 * move and moves it aside (never deletes), and every byte of the key record that matters is
 * authenticated (a flipped `createdAt` is detected; v1 key records still open and become v2).
 */
import assert from "node:assert/strict";
import { readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { runCli, tempHome } from "../helpers/cli.ts";

const KEY_A = "sk-damage-aaaaaaaaaaaaaaaaaaaaaaaa";
const KEY_W = "sk-damage-wwwwwwwwwwwwwwwwwwwwwwww";

async function twoConnections(env: Record<string, string>): Promise<void> {
  assert.equal((await runCli(["login", "openai"], { env, input: KEY_A })).code, 0);
  const work = await runCli(["login", "openai", "--connection", "work"], { env, input: KEY_W });
  assert.equal(work.code, 0, work.stderr);
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    out.push(...(entry.isDirectory() ? await filesUnder(path) : [path]));
  }
  return out;
}

for (const [label, damage] of [["truncated", '{"defaultConn'], ["wrongly typed", '{"defaultConnection":["work"]}']] as const) {
  test(`a ${label} default pointer: other connections read, the default names the record, doctor --repair moves it aside`, async () => {
    const h = await tempHome();
    try {
      await twoConnections(h.env);
      const pointer = join(h.home, "store/p/default/prov/openai.rec");
      await writeFile(pointer, damage);

      const work = await runCli(["get", "openai", "--connection", "work", "--field", "api_key", "--show-secret"], { env: h.env });
      assert.equal(work.code, 0, work.stderr);
      assert.equal(work.stdout, `${KEY_W}\n`);
      const named = await runCli(["get", "openai", "--connection", "default", "--field", "status"], { env: h.env });
      assert.equal(named.stdout, "connected\n", named.stderr);

      const byDefault = await runCli(["get", "openai"], { env: h.env });
      assert.equal(byDefault.code, 1);
      assert.equal(byDefault.stdout, "");
      const first = byDefault.stderr.split("\n")[0] ?? "";
      assert.match(first, /default pointer of openai/);
      assert.ok(first.includes(pointer), `names ${pointer}: ${first}`);

      const list = await runCli(["list", "--json"], { env: h.env });
      assert.equal(list.code, 0, list.stderr);
      const listed = JSON.parse(list.stdout) as { providers: { name: string; connections: unknown[] }[]; damaged: { source: string }[] };
      assert.equal(listed.providers.find((p) => p.name === "openai")?.connections.length, 2);
      assert.deepEqual(listed.damaged.map((d) => d.source), [pointer]);

      const doctor = await runCli(["doctor"], { env: h.env });
      assert.equal(doctor.code, 1);
      assert.match(doctor.stdout, /FAIL records: 1 damaged: .*prov\/openai\.rec/);
      assert.match(doctor.stdout, /doctor --repair/);

      const repair = await runCli(["doctor", "--repair"], { env: h.env });
      assert.equal(repair.code, 0, repair.stderr);
      assert.ok(repair.stderr.includes(`will move aside ${pointer}`), repair.stderr);
      const movedTo = /-> (\S+)/.exec(repair.stdout)?.[1] ?? "";
      assert.ok(movedTo.startsWith(join(h.home, "damaged")), repair.stdout);
      assert.equal(await readFile(movedTo, "utf8"), damage, "the old content is kept");
      assert.equal((await stat(movedTo)).mode & 0o777, 0o600);
      await assert.rejects(stat(pointer), "the pointer left the store");

      assert.equal((await runCli(["doctor", "--json"], { env: h.env })).code, 0);
      assert.equal((await runCli(["default", "openai", "work"], { env: h.env })).code, 0);
      const after = await runCli(["get", "openai", "--field", "api_key", "--show-secret"], { env: h.env });
      assert.equal(after.stdout, `${KEY_W}\n`, after.stderr);
    } finally {
      await h.cleanup();
    }
  });
}

test("a damaged connection record hides only itself: the default, list and doctor still work", async () => {
  const h = await tempHome();
  try {
    await twoConnections(h.env);
    const record = join(h.home, "store/p/default/conn/openai/work.rec");
    const stored = JSON.parse(await readFile(record, "utf8")) as { meta: { createdAt: string } };
    stored.meta.createdAt = "2020-01-01T00:00:00.000Z"; // valid shape, but bound into the seal
    await writeFile(record, JSON.stringify(stored));

    const ok = await runCli(["get", "openai", "--field", "api_key", "--show-secret"], { env: h.env });
    assert.equal(ok.stdout, `${KEY_A}\n`, ok.stderr);
    const bad = await runCli(["get", "openai", "--connection", "work", "--show-secret"], { env: h.env });
    assert.equal(bad.code, 1);
    assert.ok(bad.stderr.includes(record), bad.stderr);
    assert.doesNotMatch(bad.stdout + bad.stderr, /wwwwwwww/);

    const doctor = await runCli(["doctor", "--json"], { env: h.env });
    const checks = (JSON.parse(doctor.stdout) as { checks: { name: string; ok: boolean; detail: string }[] }).checks;
    const records = checks.find((c) => c.name === "records");
    assert.equal(records?.ok, false);
    assert.ok(records?.detail.includes(record), records?.detail);

    const repair = await runCli(["doctor", "--repair", "--json"], { env: h.env });
    assert.equal(repair.code, 0, repair.stderr);
    const { moved } = JSON.parse(repair.stdout) as { moved: { location: string; movedTo: string }[] };
    assert.deepEqual(moved.map((m) => m.location), [record]);
    const inspect = JSON.parse((await runCli(["inspect", "openai", "--json"], { env: h.env })).stdout) as { connections: { connection: string }[] };
    assert.deepEqual(inspect.connections.map((c) => c.connection), ["default"]);
  } finally {
    await h.cleanup();
  }
});

test("a byte flipped inside createdAt of key.rec is detected and never moved aside", async () => {
  const h = await tempHome();
  try {
    await twoConnections(h.env);
    const keyFile = join(h.home, "store/p/default/key.rec");
    const text = await readFile(keyFile, "utf8");
    const stored = JSON.parse(text) as { v: number; createdAt: string };
    assert.equal(stored.v, 2);
    // Flip one digit of the year (2026 -> 2027, say): still a valid timestamp.
    const at = text.indexOf(stored.createdAt) + 3;
    const flipped = `${text.slice(0, at)}${(Number(text[at]) + 1) % 10}${text.slice(at + 1)}`;
    await writeFile(keyFile, flipped);

    const r = await runCli(["get", "openai", "--connection", "work"], { env: h.env });
    assert.equal(r.code, 1);
    assert.ok(r.stderr.includes(keyFile), r.stderr);
    const repair = await runCli(["doctor", "--repair"], { env: h.env });
    assert.equal(repair.code, 1);
    assert.match(repair.stderr, /will not move .*key\.rec/);
    assert.equal(await readFile(keyFile, "utf8"), flipped, "the key record stays where it is");
  } finally {
    await h.cleanup();
  }
});

test("a v1 key record (createdAt outside the seal) still opens, and is re-wrapped as v2", async () => {
  const h = await tempHome();
  try {
    await twoConnections(h.env);
    const keyFile = join(h.home, "store/p/default/key.rec");
    const v2 = JSON.parse(await readFile(keyFile, "utf8")) as { key: { nonce: string; ct: string }; createdAt: string };
    const master = await crypto.subtle.importKey("raw", Buffer.from((await readFile(join(h.home, "master.key"), "utf8")).trim(), "base64"), "AES-GCM", false, ["encrypt", "decrypt"]);
    const open = (aad: string) => ({ name: "AES-GCM", iv: Buffer.from(v2.key.nonce, "base64"), additionalData: new TextEncoder().encode(aad) });
    const raw = await crypto.subtle.decrypt(open(`authsome/v2/profile-key/default/${v2.createdAt}`), master, Buffer.from(v2.key.ct, "base64"));
    const ct = await crypto.subtle.encrypt(open("authsome/v1/profile-key/default"), master, raw);
    const v1 = { v: 1, key: { alg: "A256GCM", nonce: v2.key.nonce, ct: Buffer.from(ct).toString("base64") }, createdAt: "not even a date" };
    await writeFile(keyFile, JSON.stringify(v1));

    const r = await runCli(["get", "openai", "--connection", "work", "--field", "api_key", "--show-secret"], { env: h.env });
    assert.equal(r.stdout, `${KEY_W}\n`, r.stderr);
    assert.equal((JSON.parse(await readFile(keyFile, "utf8")) as { v: number }).v, 2, "migrated on first open");
    const again = await runCli(["get", "openai", "--field", "api_key", "--show-secret"], { env: h.env });
    assert.equal(again.stdout, `${KEY_A}\n`, again.stderr);
    assert.ok(!(await filesUnder(h.home)).some((f) => f.includes("/damaged/")));
  } finally {
    await h.cleanup();
  }
});
