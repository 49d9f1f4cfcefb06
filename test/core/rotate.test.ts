/**
 * Key rotation stopped at every single store write in turn (src/core/rotate.ts), in process: the
 * N-th write of a rotation fails as a crash would cut it, for N = 1, 2, ... until a rotation
 * completes. After each stop every record reads back through a fresh service (old key, new key,
 * or both tried), and the next rotation finishes. Complements the kill -9 CLI test, whose random
 * moments cannot promise to hit each step. Also: the memory store rotates.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { type AuthService, createAuthService } from "../../src/core/auth-service.ts";
import { rotateMasterKey } from "../../src/core/rotate.ts";
import type { ServiceCore } from "../../src/core/service.ts";

const CONNECTIONS = [["default", "a"], ["default", "b"], ["work", "a"], ["work", "b"]] as const;
const secretOf = (profile: string, connection: string) => `sk-steps-${profile}-${connection}-0123456789`;
const saved = process.env["AUTHSOME_KEYRING"];
let seeded = "";

before(async () => {
  process.env["AUTHSOME_KEYRING"] = "0";
  seeded = await mkdtemp(join(tmpdir(), "authsome-rotate-seed-"));
  await seed(seeded);
});
after(async () => {
  if (saved === undefined) delete process.env["AUTHSOME_KEYRING"];
  else process.env["AUTHSOME_KEYRING"] = saved;
  await rm(seeded, { recursive: true, force: true });
});

async function seed(home: string): Promise<AuthService> {
  const options = { home };
  const first = await createAuthService(options);
  await first.createProfile("work");
  for (const [profile, connection] of CONNECTIONS) {
    const service = profile === "default" ? first : await createAuthService({ ...options, profile });
    await service.login("openai", { connection, apiKey: secretOf(profile, connection) });
  }
  return first;
}

async function assertReadable(home: string, when: string): Promise<void> {
  for (const [profile, connection] of CONNECTIONS) {
    const service = await createAuthService({ home, profile });
    const view = await service.getConnection("openai", { connection, showSecret: true });
    assert.equal(view.secrets?.["api_key"], secretOf(profile, connection), `${when}: ${profile}/${connection}`);
  }
}

/** The core with a store whose `failAt`-th write (setItem or removeItem) throws, as a crash there. */
async function crashingCore(home: string, failAt: number): Promise<ServiceCore> {
  const core = (await createAuthService({ home })).core;
  const real = await core.store();
  let writes = 0;
  const storage = new Proxy(real.storage, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver) as unknown;
      if ((name !== "setItem" && name !== "removeItem") || typeof value !== "function") return value;
      return (...args: unknown[]) => {
        if (++writes === failAt) return Promise.reject(new Error(`crash at write ${failAt}`));
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  const store = { ...real, storage };
  return { ...core, store: async () => store };
}

const copyHome = async (): Promise<string> => {
  const home = await mkdtemp(join(tmpdir(), "authsome-rotate-step-"));
  assert.equal(spawnSync("cp", ["-a", `${seeded}/.`, home]).status, 0);
  return home;
};

for (const reencrypt of [false, true]) {
  test(`rotation${reencrypt ? " --reencrypt" : ""} stopped at each store write: every record reads, the next rotation finishes`, async () => {
    let completed = false;
    let steps = 0;
    for (let failAt = 1; failAt <= 60 && !completed; failAt++) {
      const home = await copyHome();
      try {
        const stopped = await rotateMasterKey(await crashingCore(home, failAt), { reencrypt }).then(() => false, (error: Error) => {
          assert.match(error.message, /crash at write/);
          return true;
        });
        if (!stopped) {
          completed = true;
          break;
        }
        steps++;
        assert.ok(existsSync(join(home, "master.key.next")), `stopped at write ${failAt}: the pending key must already be on disk`);
        await assertReadable(home, `stopped at write ${failAt}`);
        const finished = await rotateMasterKey((await createAuthService({ home })).core, {});
        assert.equal(finished.resumed, true);
        assert.equal(existsSync(join(home, "master.key.next")), false);
        const leftovers = (await readdir(join(home, "store"), { recursive: true })).filter((f) => String(f).endsWith("key-next.rec"));
        assert.deepEqual(leftovers, [], `stopped at write ${failAt}: a pending data key is left after finishing`);
        await assertReadable(home, `finished after a stop at write ${failAt}`);
      } finally {
        await rm(home, { recursive: true, force: true });
      }
    }
    assert.ok(completed, "a rotation never completed within 60 writes");
    // Plain: one re-wrap per profile. --reencrypt: key-next, two records, the key, removing key-next.
    assert.equal(steps, reencrypt ? 10 : 2, `stopped at ${steps} different writes`);
  });
}

test("the memory store rotates and re-encrypts in the process that holds it", async () => {
  const home = await mkdtemp(join(tmpdir(), "authsome-rotate-memory-"));
  try {
    // One service: a memory store lives and dies with the instance that opened it.
    const service = await createAuthService({ home, storage: "memory" });
    for (const connection of ["a", "b"]) await service.login("openai", { connection, apiKey: secretOf("default", connection) });
    const result = await rotateMasterKey(service.core, { reencrypt: true });
    assert.deepEqual(result.profiles.map((p) => [p.profile, p.resealed]), [["default", 2]]);
    const view = await service.getConnection("openai", { connection: "b", showSecret: true });
    assert.equal(view.secrets?.["api_key"], secretOf("default", "b"));
  } finally {
    await rm(home, { recursive: true, force: true });
  }
});

test("a process that loaded the old keys before a --reencrypt never writes a record the others cannot read", async () => {
  const home = await copyHome();
  try {
    const stale = await createAuthService({ home });
    // Loads (and caches) the master key and the profile's data key.
    assert.equal((await stale.getConnection("openai", { connection: "a", showSecret: true })).secrets?.["api_key"], secretOf("default", "a"));
    await rotateMasterKey((await createAuthService({ home })).core, { reencrypt: true });
    const wrote = await stale.login("openai", { connection: "late", apiKey: "sk-late-0123456789abcdef" }).then(() => "wrote", (error: { code?: string }) => error.code);
    // It sees the key records changed and reloads: with the old master key it cannot open them,
    // so it refuses, loudly; had it written, a fresh process must read what it wrote.
    if (wrote === "wrote") {
      const view = await (await createAuthService({ home })).getConnection("openai", { connection: "late", showSecret: true });
      assert.equal(view.secrets?.["api_key"], "sk-late-0123456789abcdef");
    } else assert.equal(wrote, "master_key_invalid");
    await assertReadable(home, "after the stale process tried to write");
  } finally {
    await rm(home, { recursive: true, force: true });
  }
});
