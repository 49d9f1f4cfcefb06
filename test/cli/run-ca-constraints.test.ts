/**
 * `authsome run` with a name-constrained CA (issue 14 part 6): a host a provider's rule names
 * but the CA's constraints cannot cover (a regex rule ending in a single label) is not
 * intercepted, it is tunnelled untouched (no credential reaches it, the client sees the real
 * server's certificate); a covered host is intercepted and injected as before; the run's CA
 * carries the constraints.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { runCli } from "../helpers/cli.ts";
import { addAcme, type HomeWithUpstream, startHomeWithUpstream } from "../helpers/cli-upstream.ts";

const KEY = "acme-key-constrained-0001";
let setup: HomeWithUpstream;
let env: Record<string, string>;

before(async () => {
  setup = await startHomeWithUpstream(["api"]);
  env = { ...setup.env, AUTHSOME_UPSTREAM_RESOLVE: `${setup.env["AUTHSOME_UPSTREAM_RESOLVE"]},bad.test:${setup.upstream.port}:127.0.0.1` };
  await addAcme(setup.home.home, env, KEY, { inject: [{ host: "api.example.test" }, { host: "regex:(bad|worse)\\.test" }] });
});
after(async () => {
  await setup?.upstream.close();
  await setup?.home.cleanup();
});

test("a host outside the CA's constraints is tunnelled untouched; a covered one is intercepted and injected", async () => {
  const upstreamCa = join(setup.home.home, "upstream-ca.pem");
  const port = setup.upstream.port;
  // The child trusts the upstream's own CA too: a tunnelled request then succeeds, showing it was not intercepted.
  const script = `T=$(mktemp) && trap 'rm -f "$T"' EXIT && cat "$NODE_EXTRA_CA_CERTS" "${upstreamCa}" > "$T" && curl -sS --fail --cacert "$T" https://bad.test:${port}/outside && curl -sS --fail --cacert "$T" https://api.example.test:${port}/inside && cat "$NODE_EXTRA_CA_CERTS"`;
  const r = await runCli(["run", "--", "sh", "-c", script], { env });
  assert.equal(r.code, 0, r.stderr);
  const outside = setup.upstream.requests.find((q) => q.url === "/outside");
  const inside = setup.upstream.requests.find((q) => q.url === "/inside");
  assert.ok(outside !== undefined && inside !== undefined, "both requests reached the upstream");
  assert.equal(outside.headers.authorization, undefined, "the uncovered host got no credential: it was not intercepted");
  assert.equal(inside.headers.authorization, `Bearer ${KEY}`);
  const caPem = r.stdout.slice(r.stdout.indexOf("-----BEGIN CERTIFICATE-----"));
  const constraints = new x509.X509Certificate(caPem).getExtension("2.5.29.30");
  assert.ok(constraints?.critical, "the run's CA is name-constrained");
  assert.ok(Buffer.from(constraints.value).includes("api.example.test"));
  assert.ok(!Buffer.from(constraints.value).includes("bad.test"));
  assert.ok((await readFile(upstreamCa, "utf8")).includes("BEGIN CERTIFICATE"));
});
