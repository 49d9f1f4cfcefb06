/**
 * A TypeScript plugin's `sign` hook through the real CLI: `providers add` keeps the hook as its
 * source, `login` stores the API secret, and under `authsome run` each request to the plugin's
 * host is signed by the hook (in its sandbox) over the whole body; a local HTTPS server checks
 * the HMAC with node:crypto and refuses anything else. The secret never reaches the child.
 */
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import tls from "node:tls";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { createCertificateAuthority, createMemoryCaStore } from "../../src/proxy/ca.ts";
import { runCli, tempHome } from "../helpers/cli.ts";
import { repoRoot } from "../helpers/spawn-runtime.ts";

const SECRET = "hmac-api-secret-0123456789abcdef";
let home: Awaited<ReturnType<typeof tempHome>>;
let server: https.Server;
let plain: http.Server;
let env: Record<string, string>;
let base: string;
let plainBase: string;
const seen: { method: string; url: string; verified: boolean; signature: string | undefined }[] = [];

before(async () => {
  home = await tempHome();
  const ca = await createCertificateAuthority(createMemoryCaStore());
  server = https.createServer({ SNICallback: (name, done) => void ca.leafFor(name).then((leaf) => done(null, tls.createSecureContext({ cert: leaf.certPem, key: leaf.keyPem })), done) });
  plain = http.createServer();
  const verify = (req: http.IncomingMessage, res: http.ServerResponse) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => (body += chunk));
    req.on("end", () => {
      const timestamp = String(req.headers["x-timestamp"] ?? "");
      const expected = createHmac("sha256", SECRET).update(`${timestamp}\n${req.method}\n${req.url}\n${body}`).digest("hex");
      const signature = req.headers["x-signature"] as string | undefined;
      const verified = signature === expected && Math.abs(Date.now() / 1000 - Number(timestamp)) < 300;
      seen.push({ method: req.method ?? "", url: req.url ?? "", verified, signature });
      res.writeHead(verified ? 200 : 401, { "content-type": "application/json" });
      res.end(JSON.stringify({ verified, body }));
    });
  };
  server.on("request", verify);
  plain.on("request", verify);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  await new Promise<void>((resolve) => plain.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  plainBase = `http://plain.example.test:${(plain.address() as AddressInfo).port}`;
  const caFile = join(home.home, "upstream-ca.pem");
  await writeFile(caFile, ca.caCertPem());
  env = { ...home.env, AUTHSOME_UPSTREAM_RESOLVE: `api.example.test:${port}:127.0.0.1,plain.example.test:${(plain.address() as AddressInfo).port}:127.0.0.1`, AUTHSOME_UPSTREAM_CA: caFile };
  base = `https://api.example.test:${port}`;
  for (const [args, input] of [[["providers", "add", join(repoRoot, "test/fixtures/plugins/hmac-signed.ts")], ""], [["login", "hmacapi"], SECRET]] as const) {
    const r = await runCli([...args], { env, input });
    assert.equal(r.code, 0, r.stderr);
  }
});
after(async () => {
  server.closeAllConnections();
  plain.closeAllConnections();
  await Promise.all([new Promise((resolve) => server.close(resolve)), new Promise((resolve) => plain.close(resolve))]);
  await home.cleanup();
});

test("the installed plugin keeps its hook as source text, shown by inspect", async () => {
  const r = await runCli(["inspect", "hmacapi", "--json"], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /crypto\.subtle\.sign/);
  assert.ok(!r.stdout.includes(SECRET));
});

test("curl and a Node child's fetch: GET and POST signed by the hook, verified upstream", async () => {
  const before = seen.length;
  const script = `const a = await fetch("${base}/v1/orders?symbol=X", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ qty: 2 }) }); console.log(a.status, await a.text());`;
  const node = await runCli(["run", "--", "node", "--input-type=module", "-e", script], { env });
  assert.equal(node.code, 0, node.stderr);
  assert.match(node.stdout, /^200 \{"verified":true,"body":"\{\\"qty\\":2\}"\}/);
  const curl = await runCli(["run", "--", "curl", "-sS", "--fail", `${base}/v1/time`], { env });
  assert.equal(curl.code, 0, curl.stderr);
  const calls = seen.slice(before);
  assert.deepEqual(calls.map((c) => [c.method, c.url, c.verified]), [["POST", "/v1/orders?symbol=X", true], ["GET", "/v1/time", true]]);
  assert.ok(!node.stdout.includes(SECRET) && !curl.stdout.includes(SECRET));
});

test("the child sees a placeholder; the agent's own X-Signature is replaced", async () => {
  const before = seen.length;
  const r = await runCli(["run", "--", "sh", "-c", `echo "$HMACAPI_SECRET"; curl -sS -H "X-Signature: forged" ${base}/v1/forged`], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.ok(!r.stdout.includes(SECRET));
  assert.match(r.stdout, /^authsome-managed-/);
  assert.equal(seen[before]?.verified, true);
  assert.notEqual(seen[before]?.signature, "forged");
});

test("over plain HTTP (the proxy's node:http forwarder): a POST body read whole, then signed", async () => {
  const before = seen.length;
  const r = await runCli(["run", "--", "curl", "-sS", "--fail", "-H", "content-type: application/json", "--data", "{\"side\":\"buy\"}", `${plainBase}/v1/plain`], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { verified: true, body: "{\"side\":\"buy\"}" });
  assert.deepEqual(seen.slice(before).map((c) => [c.method, c.url, c.verified]), [["POST", "/v1/plain", true]]);
});
