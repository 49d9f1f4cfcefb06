/**
 * Machine identities on a shared Redis store (issue 14 part 6): homes stand in for machines, each
 * with its own key, none given another's master key. A machine without access gets one clear
 * error and no key file; it joins, is approved, reads and writes; it is removed and can no longer
 * read; `remove --rotate` re-encrypts and the remaining machines still read. Each machine's proxy
 * CA is its own, name-constrained, and sealed so that no other machine opens it.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { spawn } from "node:child_process";
import { cliCommand, collectOutput, runCli, tempHome } from "../helpers/cli.ts";
import { type RedisServer, redisUnavailableReason, startRedisServer } from "../helpers/redis-server.ts";
import { type SecretService, secretServiceMissing, startSecretService } from "../helpers/secret-service.ts";

const skip = redisUnavailableReason();

let redis: RedisServer;
let homes: Awaited<ReturnType<typeof tempHome>>[] = [];
const cli = (i: number, args: string[], input?: string) => runCli(args, { env: { ...homes[i]?.env, AUTHSOME_STORAGE: redis.url }, ...(input === undefined ? {} : { input }) });
const SECRET = "sk-machines-0123456789abcdefghij";

before(async () => {
  if (skip !== undefined) return;
  redis = await startRedisServer();
  homes = await Promise.all([0, 1, 2].map(() => tempHome()));
});
after(async () => {
  await redis?.stop();
  await Promise.all(homes.map((h) => h.cleanup()));
});

const noKeyFiles = (i: number) => ["master.key", "master.keyring"].filter((name) => existsSync(join(homes[i]?.home ?? "", name)));

/** The CA a run of machine `i` trusts (its NODE_EXTRA_CA_CERTS file). */
async function runCa(i: number): Promise<string> {
  const r = await cli(i, ["run", "--", "sh", "-c", 'cat "$NODE_EXTRA_CA_CERTS"']);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

/**
 * Each machine has a CA of its own, name-constrained to the providers' hosts, sealed under its
 * own key: machine 0 cannot open machine 1's (put in its slot, it fails its integrity check).
 */
async function perMachineCa(joinedId: string): Promise<void> {
  const [first, second] = [await runCa(0), await runCa(1)];
  assert.notEqual(first, second, "one CA per machine");
  for (const pem of [first, second]) {
    const constraints = new x509.X509Certificate(pem).getExtension("2.5.29.30");
    assert.ok(constraints?.critical, "the CA is name-constrained");
    assert.ok(Buffer.from(constraints.value).includes("openai.com"), "to the providers' hosts");
  }
  // Every CA record (a key whose last part is `ca`): a pattern like *ca* also matched machine ids.
  const keys = redis.cli("--scan", "--pattern", "authsome:*").trim().split("\n").filter((k) => /:ca$/.test(k)).sort();
  const firstId = (await readFile(join(homes[0]?.home ?? "", "machine-id"), "utf8")).trim();
  assert.deepEqual(keys, [`authsome:machine:${firstId}:ca`, `authsome:machine:${joinedId}:ca`].sort(), "no fleet-wide CA record");
  const mine = redis.cli("GET", `authsome:machine:${firstId}:ca`).trim();
  redis.cli("SET", `authsome:machine:${firstId}:ca`, redis.cli("GET", `authsome:machine:${joinedId}:ca`).trim());
  const r = await cli(0, ["run", "--", "true"]);
  assert.notEqual(r.code, 0, "machine 0 opened machine 1's CA key");
  assert.match(r.stderr, /the proxy CA failed its integrity check/);
  redis.cli("SET", `authsome:machine:${firstId}:ca`, mine);
}

/** The complete JSON documents in `text` (--json output: one document per line, or pretty-printed, each ending in a line "}"). */
function jsonDocs(text: string): unknown[] {
  const docs: unknown[] = [];
  for (const part of text.split(/(?<=^\}|\n\})\n/)) {
    const trimmed = part.trim();
    if (trimmed === "") continue;
    try {
      docs.push(JSON.parse(trimmed));
    } catch {
      break; // the last one is still being written
    }
  }
  return docs;
}

async function expectNoAccess(i: number, what: string): Promise<void> {
  const r = await cli(i, ["get", "openai", "--show-secret"]);
  assert.equal(r.code, 1, `${what}: ${r.stdout}${r.stderr}`);
  assert.equal(r.stdout, "");
  assert.match(r.stderr, /^error: this machine \([0-9a-f]{32}, .+\) has no access to the profiles in redis:\/\/|^error: this machine \([0-9a-f]{32}, .+\) has no key for profile "default"/, what);
  assert.match(r.stderr.split("\n")[1] ?? "", /^  run `authsome machine join` here/, what);
  assert.doesNotMatch(r.stderr, new RegExp(SECRET), what);
  const json = await cli(i, ["get", "openai", "--json"]);
  assert.equal((JSON.parse(json.stdout) as { error: string }).error, "machine_no_access", what);
  assert.deepEqual(noKeyFiles(i), [], `${what}: no master key was created`);
}

test("a machine without access gets machine_no_access and no key file; it joins, is approved, reads and writes, is removed, and can no longer read", { skip }, async () => {
  let r = await cli(0, ["login", "openai"], SECRET);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(existsSync(join(homes[0]?.home ?? "", "master.key")), "the first machine made the fleet's master key");

  await expectNoAccess(1, "before joining");
  r = await cli(1, ["machine", "join", "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const request = JSON.parse(r.stdout) as { id: string; fingerprint: string; status: string; approve: string };
  assert.equal(request.status, "requested");
  assert.equal(request.approve, `authsome machine approve ${request.id}.${request.fingerprint}`);
  assert.doesNotMatch(r.stdout + r.stderr, /PRIVATE|pkcs8/i, "a join request holds no secret");
  const keyFile = await readFile(join(homes[1]?.home ?? "", "machine.key"), "utf8");
  assert.ok(!redis.cli("--scan", "--pattern", "*").includes(JSON.parse(keyFile).pkcs8.slice(8, 40)), "the private key never reaches the store");
  await expectNoAccess(1, "requested, not yet approved");

  // A request whose key was swapped in the store is refused by its fingerprint.
  r = await cli(0, ["machine", "approve", `${request.id}.0000000000000000`]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /has fingerprint [0-9a-f]{16}, not 0000000000000000/);

  r = await cli(0, ["machine", "approve", `${request.id}.${request.fingerprint}`]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /Approved machine [0-9a-f]{32} .*1 profile key\(s\) wrapped for it \(default\)/);

  r = await cli(1, ["get", "openai", "--show-secret", "--json"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(SECRET), "the joined machine reads the connection");
  r = await cli(1, ["login", "anthropic"], "sk-ant-from-machine-b-000000000000");
  assert.equal(r.code, 0, r.stderr);
  r = await cli(0, ["get", "anthropic", "--show-secret", "--json"]);
  assert.match(r.stdout, /sk-ant-from-machine-b/, "what the joined machine wrote, the first one reads");
  assert.deepEqual(noKeyFiles(1), [], "the joined machine never held a master key");
  r = await cli(1, ["whoami", "--json"]);
  assert.equal((JSON.parse(r.stdout) as { key_mode: string }).key_mode, "machine");
  r = await cli(1, ["doctor", "--json"]);
  const checks = (JSON.parse(r.stdout) as { checks: { name: string; ok: boolean; detail: string }[] }).checks;
  assert.deepEqual(checks.filter((c) => !c.ok), [], "doctor finds nothing wrong on a joined machine");
  assert.match(checks.find((c) => c.name === "master key permissions")?.detail ?? "", /machine\.key has mode 600/);

  r = await cli(0, ["machine", "list", "--json"]);
  const { machines } = JSON.parse(r.stdout) as { machines: { id: string; status: string; hostname: string; joined_at?: string; approved_by?: string; last_seen?: string; profiles: string[] }[] };
  const joined = machines.find((m) => m.id === request.id);
  assert.equal(joined?.status, "approved");
  assert.deepEqual(joined?.profiles, ["default"]);
  assert.ok(joined?.joined_at !== undefined && joined.last_seen !== undefined && joined.hostname !== "");
  assert.match(joined?.approved_by ?? "", /^[0-9a-f]{32} \(.+\)$/);
  // The first machine (it made the fleet's master key) is listed too, marked, on every machine.
  const firstId = (await readFile(join(homes[0]?.home ?? "", "machine-id"), "utf8")).trim();
  const origin = machines.find((m) => m.id === firstId);
  assert.equal(origin?.status, "master_key", JSON.stringify(machines));
  assert.deepEqual(origin?.profiles, [], "a master-key holder has no wrappings");
  const seenByJoined = JSON.parse((await cli(1, ["machine", "list", "--json"])).stdout) as { machines: { id: string; status: string; current: boolean }[] };
  assert.deepEqual(seenByJoined.machines.map((m) => [m.id, m.status, m.current]).sort(), [[firstId, "master_key", false], [request.id, "approved", true]].sort());
  r = await cli(0, ["machine", "list"]);
  assert.match(r.stdout, new RegExp(`^\\* ${firstId} .+  master key  `, "m"));

  await perMachineCa(request.id);

  r = await cli(0, ["machine", "remove", request.id]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /Removed machine .*1 wrapped key\(s\) deleted.*It keeps what it already read/);
  await expectNoAccess(1, "after removal");

  const { entries } = JSON.parse((await cli(0, ["audit", "--json"])).stdout) as { entries: { action: string; host?: string }[] };
  for (const action of ["machine_join", "machine_approve", "machine_remove"]) {
    assert.ok(entries.some((e) => e.action === action && e.host === request.id), `${action} audited, naming the machine`);
  }
});

test("remove --rotate: every record under new data keys, the remaining machine approved again and still reading; a stale wrapping is refused clearly", { skip }, async () => {
  const join2 = JSON.parse((await cli(2, ["machine", "join", "--json"])).stdout) as { id: string; fingerprint: string };
  let r = await cli(0, ["machine", "approve", `${join2.id}.${join2.fingerprint}`]);
  assert.equal(r.code, 0, r.stderr);
  const join1 = JSON.parse((await cli(1, ["machine", "join", "--json"])).stdout) as { id: string; fingerprint: string };
  r = await cli(0, ["machine", "approve", `${join1.id}.${join1.fingerprint}`]);
  assert.equal(r.code, 0, r.stderr);
  // Machine 1 keeps a copy of its wrapping, as a removed machine could.
  const copy = redis.cli("GET", `authsome:machine:${join1.id}:key:default`);

  r = await cli(0, ["machine", "remove", join1.id, "--rotate", "--json"]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual((JSON.parse(r.stdout) as { rewrapped: string[] }).rewrapped, [join2.id]);
  r = await cli(2, ["get", "openai", "--show-secret", "--json"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(SECRET));

  // The old wrapping put back: it opens only the retired data key, and says so.
  if (copy.trim() !== "") {
    redis.cli("SET", `authsome:machine:${join1.id}:key:default`, copy.trim());
    r = await cli(1, ["get", "openai", "--show-secret"]);
    assert.equal(r.code, 1);
    assert.doesNotMatch(r.stdout + r.stderr, new RegExp(SECRET));
  }
});

test("a machine approved before a re-encryption is told its key is old, and reads again once approved again", { skip }, async () => {
  let r = await cli(2, ["get", "openai", "--json"]);
  assert.equal(r.code, 0, r.stderr);
  r = await cli(0, ["key", "rotate", "--reencrypt"]);
  assert.equal(r.code, 0, r.stderr);
  r = await cli(2, ["get", "openai", "--show-secret", "--json"]);
  assert.equal((JSON.parse(r.stdout) as { error: string; message: string }).error, "machine_no_access");
  assert.match((JSON.parse(r.stdout) as { message: string }).message, /holds an old key of profile "default": its data key was replaced/);
  const request = JSON.parse((await cli(2, ["machine", "join", "--json"])).stdout) as { id: string; fingerprint: string; status: string };
  assert.equal(request.status, "approved", "still listed as approved");
  r = await cli(0, ["machine", "approve", `${request.id}.${request.fingerprint}`]);
  assert.equal(r.code, 0, r.stderr);
  r = await cli(2, ["get", "openai", "--show-secret", "--json"]);
  assert.match(r.stdout, new RegExp(SECRET));
});

test("approving from a v1 key record wraps the key under the record it is migrated to (the machine reads)", { skip }, async () => {
  const stored = JSON.parse(redis.cli("GET", "authsome:p:default:key").trim()) as { key: { nonce: string; ct: string }; createdAt: string };
  const master = await crypto.subtle.importKey("raw", Buffer.from((await readFile(join(homes[0]?.home ?? "", "master.key"), "utf8")).trim(), "base64"), "AES-GCM", false, ["encrypt", "decrypt"]);
  const open = (aad: string) => ({ name: "AES-GCM", iv: Buffer.from(stored.key.nonce, "base64"), additionalData: new TextEncoder().encode(aad) });
  const raw = await crypto.subtle.decrypt(open(`authsome/v2/profile-key/default/${stored.createdAt}`), master, Buffer.from(stored.key.ct, "base64"));
  const ct = await crypto.subtle.encrypt(open("authsome/v1/profile-key/default"), master, raw);
  redis.cli("SET", "authsome:p:default:key", JSON.stringify({ v: 1, key: { alg: "A256GCM", nonce: stored.key.nonce, ct: Buffer.from(ct).toString("base64") }, createdAt: "an old v1 record" }));
  const request = JSON.parse((await cli(2, ["machine", "join", "--json"])).stdout) as { id: string; fingerprint: string };
  let r = await cli(0, ["machine", "approve", `${request.id}.${request.fingerprint}`]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal((JSON.parse(redis.cli("GET", "authsome:p:default:key").trim()) as { v: number }).v, 2, "migrated by the approval");
  r = await cli(2, ["get", "openai", "--show-secret", "--json"]);
  assert.match(r.stdout, new RegExp(SECRET), r.stdout + r.stderr);
});

test("a machine key in the OS keyring: the home holds a pointer only; the machine joins and reads", { skip: skip ?? secretServiceMissing() }, async () => {
  const service: SecretService = await startSecretService();
  const h = await tempHome();
  try {
    const env = { ...h.env, ...service.env, AUTHSOME_KEYRING: undefined, XDG_RUNTIME_DIR: undefined, AUTHSOME_STORAGE: redis.url };
    let r = await runCli(["machine", "join", "--json"], { env });
    assert.equal(r.code, 0, r.stderr);
    const request = JSON.parse(r.stdout) as { id: string; fingerprint: string; status: string };
    assert.equal(request.status, "requested");
    assert.equal(existsSync(join(h.home, "machine.key")), false, "no key file beside a keyring key");
    const pointer = JSON.parse(await readFile(join(h.home, "machine.keyring"), "utf8")) as { service: string; account: string };
    assert.equal(pointer.service, "authsome");
    assert.ok(service.secretTool(["search", "--all", "service", "authsome"]).stdout.includes(pointer.account), "the entry is in the keyring");
    r = await cli(0, ["machine", "approve", `${request.id}.${request.fingerprint}`]);
    assert.equal(r.code, 0, r.stderr);
    r = await runCli(["get", "openai", "--show-secret", "--json"], { env });
    assert.match(r.stdout, new RegExp(SECRET), r.stdout + r.stderr);
    const who = JSON.parse((await runCli(["whoami", "--json"], { env })).stdout) as { key_mode: string; key_source: string };
    assert.equal(who.key_mode, "machine");
    assert.match(who.key_source, /machine\.keyring/);
    assert.deepEqual(["master.key", "master.keyring"].filter((f) => existsSync(join(h.home, f))), []);
  } finally {
    await h.cleanup();
    await service.stop();
  }
});

test("join --wait: the request is printed at once, the command ends when approved (or says no approval came)", { skip }, async () => {
  const h = await tempHome();
  try {
    const env = { ...process.env, ...h.env, AUTHSOME_STORAGE: redis.url, NO_COLOR: "1" };
    const short = await runCli(["machine", "join", "--wait", "1", "--json"], { env });
    assert.equal(short.code, 1);
    const [printed, failed] = jsonDocs(short.stdout) as { status?: string; error?: string; message?: string }[];
    assert.equal(printed?.status, "requested");
    assert.equal(failed?.error, "machine_no_access");
    assert.match(failed?.message ?? "", /no approval within 1 s \(the request stays in the store\)/);

    const { command, args } = cliCommand();
    const child = spawn(command, [...args, "machine", "join", "--wait", "60", "--json"], { env, stdio: ["ignore", "pipe", "pipe"] });
    const done = collectOutput(child);
    // The request line comes before the wait: read it as the person at the new machine would.
    const line = await new Promise<string>((resolve, reject) => {
      let text = "";
      child.stdout.on("data", (d: Buffer) => {
        text += String(d);
        const [first] = jsonDocs(text);
        if (first !== undefined) resolve(JSON.stringify(first));
      });
      child.on("close", () => reject(new Error(`join ended before printing its request: ${text}`)));
    });
    const request = JSON.parse(line) as { approve: string };
    const r = await cli(0, request.approve.split(" ").slice(1));
    assert.equal(r.code, 0, r.stderr);
    const joined = await done;
    assert.equal(joined.code, 0, joined.stderr);
    assert.match(joined.stderr, /Approved: this machine/);
    assert.match((await runCli(["get", "openai", "--show-secret", "--json"], { env })).stdout, new RegExp(SECRET));
  } finally {
    await h.cleanup();
  }
});
