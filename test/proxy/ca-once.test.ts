/**
 * The home's CA is made once (issue 11): 20 `authsome run` started at once on a home that has no
 * CA yet all trust the same CA, and each curl through its proxy verifies the intercepted HTTPS
 * (before, 0-3 of 20 failed with curl error 60: each run made its own CA and rewrote a shared
 * ca.pem). Each run's trust files sit in a 0700 folder of its own, removed when the run ends.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdir, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { createCertificateAuthority, createMemoryCaStore } from "../../src/proxy/ca.ts";
import { runCli, tempHome } from "../helpers/cli.ts";
import { startHttpsUpstream } from "../helpers/proxy-upstream.ts";

const hasCurl = spawnSync("curl", ["--version"]).status === 0;
const RUNS = 20;
const KEY = "acme-key-ca-once-0001";

test(`${RUNS} first runs at once share one CA and every child trusts it`, { skip: hasCurl ? false : "curl is not installed", timeout: 240_000 }, async () => {
  const home = await tempHome();
  const upstreamCa = await createCertificateAuthority(createMemoryCaStore());
  const upstream = await startHttpsUpstream(() => upstreamCa);
  try {
    const caFile = join(home.home, "upstream-ca.pem");
    await writeFile(caFile, upstreamCa.caCertPem());
    const env = { ...home.env, AUTHSOME_UPSTREAM_RESOLVE: `api.example.test:${upstream.port}:127.0.0.1`, AUTHSOME_UPSTREAM_CA: caFile };
    const plugin = join(home.home, "acme.json");
    await writeFile(plugin, JSON.stringify({ name: "acme", authType: "api_key", inject: [{ host: "api.example.test" }], env: { ACME_API_KEY: "api_key" } }));
    for (const args of [["providers", "add", plugin], ["login", "acme"]]) {
      const r = await runCli(args, { env, input: KEY });
      assert.equal(r.code, 0, r.stderr);
    }
    // The child prints its folder's mode, then the CA it was given, after curl went through.
    const script = `curl -sS --fail -o /dev/null https://api.example.test:${upstream.port}/ca-once && stat -c %a "$(dirname "$NODE_EXTRA_CA_CERTS")" && cat "$NODE_EXTRA_CA_CERTS"`;
    const results = await Promise.all(Array.from({ length: RUNS }, () => runCli(["run", "--", "sh", "-c", script], { env })));
    const cas = new Set<string>();
    for (const [i, r] of results.entries()) {
      assert.equal(r.code, 0, `run ${i}: ${r.stderr}`);
      const [mode, ...pem] = r.stdout.split("\n");
      assert.equal(mode, "700", `run ${i}'s trust folder is private`);
      cas.add(pem.join("\n").trim());
    }
    assert.equal(cas.size, 1, "every run was given the same CA");
    assert.match([...cas][0] ?? "", /^-----BEGIN CERTIFICATE-----/);
    assert.equal(upstream.requests.filter((q) => q.url === "/ca-once" && q.headers.authorization === `Bearer ${KEY}`).length, RUNS);
    assert.deepEqual(await readdir(join(home.home, "runs")), [], "each run removed its trust folder");
  } finally {
    await upstream.close();
    await home.cleanup();
  }
});

/** A pid no process has: the highest one Linux allows is below 2^22. */
function deadPid(): number {
  for (let pid = 4_194_304 + 1000; pid < 4_194_304 + 2000; pid++) {
    try {
      process.kill(pid, 0);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ESRCH") return pid;
    }
  }
  throw new Error("no unused pid found");
}

test("a run removes the trust folders of runs killed before they could, and leaves live ones", async () => {
  const home = await tempHome();
  try {
    const login = await runCli(["login", "openai"], { env: home.env, input: "sk-sweeptest0000000000000000" });
    assert.equal(login.code, 0, login.stderr);
    const runs = join(home.home, "runs");
    const dead = `run-${deadPid()}-abc123`;
    const live = `run-${process.pid}-def456`;
    for (const name of [dead, live]) await mkdir(join(runs, name), { recursive: true });
    const r = await runCli(["run", "--", "sh", "-c", "exit 0"], { env: home.env });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await readdir(runs), [live]);
  } finally {
    await home.cleanup();
  }
});
