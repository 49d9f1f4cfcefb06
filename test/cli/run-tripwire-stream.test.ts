/**
 * The tripwire's scan of a request body that waits for the upstream (issue 10): the scan holds
 * back the end of a piece that could begin another provider's key, so a bidirectional exchange
 * (the agent sends a message and waits for the answer before sending the next) would stall.
 * Through the real `authsome run`, a Node child speaks HTTP/1.1 itself through the run's proxy,
 * inside the intercepted TLS tunnel (the raw relay) and in absolute form over plain http (the
 * node:http forwarder): its first message ends in the first bytes of the other provider's key;
 * the upstream answers once it has the whole message, and only then does the agent send the
 * rest. The key completed later still trips: the exchange is cut (its answer had begun), the
 * rest never arrives, and the attempt is audited.
 */
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import http from "node:http";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { runCli, type tempHome } from "../helpers/cli.ts";
import { type HomeWithRoute, startHomeWithRoute } from "../helpers/cli-upstream.ts";

const KEY = "acme-bidi-key-0123456789";
const OTHER = "zeta-other-key-0123456789";
/** Ends in the other key's first bytes: held as a possible key until the agent is quiet. */
const FIRST = `message one: ${OTHER.slice(0, 3)}`;

let home: Awaited<ReturnType<typeof tempHome>>;
let env: Record<string, string>;
let ports = { secure: 0, plain: 0 };
let upstream: HomeWithRoute;
/** Per request path: the body bytes the upstream received. */
const received = new Map<string, string>();

/** `/bidi*`: answers the head at once, `got <n>` once the first message is whole, then `end`. */
function route(req: http.IncomingMessage, res: http.ServerResponse): void {
  const path = req.url ?? "";
  let body = "";
  let answered = false;
  res.writeHead(200, { "content-type": "text/plain" });
  res.flushHeaders();
  req.on("data", (d: Buffer) => {
    body += d.toString("latin1");
    received.set(path, body);
    if (!answered && body.includes(FIRST)) res.write(`got ${(answered = true) && body.length}\n`);
  });
  req.on("end", () => res.end("end\n"));
  req.on("error", () => res.destroy());
}

before(async () => {
  upstream = await startHomeWithRoute(route);
  ({ home, env, ports } = upstream);
  const acme = join(home.home, "acme.json");
  await writeFile(acme, JSON.stringify({ name: "acme", authType: "api_key", inject: [{ host: "api.example.test" }, { host: "http://api.example.test" }] }));
  const zeta = join(home.home, "zeta.json");
  await writeFile(zeta, JSON.stringify({ name: "zeta", authType: "api_key", inject: [{ host: "zeta.example.test" }] }));
  for (const [args, input] of [[["providers", "add", acme], ""], [["login", "acme"], KEY], [["providers", "add", zeta], ""], [["login", "zeta"], OTHER]] as const) {
    const r = await runCli([...args], { env, input });
    assert.equal(r.code, 0, r.stderr);
  }
});
after(async () => {
  await upstream.close();
});

/**
 * The agent: a chunked POST, its first chunk `FIRST`; once the answer says `got`, the second
 * chunk and the end. Prints everything it received. `tls`: inside a CONNECT tunnel; else in
 * absolute form to the proxy itself.
 */
const agentScript = `import net from "node:net"; import tls from "node:tls"; import fs from "node:fs";
const [mode, host, port, path, first, second] = process.argv.slice(1);
const proxy = new URL(mode === "tls" ? process.env.HTTPS_PROXY : process.env.HTTP_PROXY ?? process.env.http_proxy);
const auth = "Proxy-Authorization: Basic " + Buffer.from(decodeURIComponent(proxy.username) + ":" + decodeURIComponent(proxy.password)).toString("base64") + "\\r\\n";
const chunk = (s) => Buffer.byteLength(s).toString(16) + "\\r\\n" + s + "\\r\\n";
const raw = net.connect(Number(proxy.port), proxy.hostname);
function talk(s, target, extra) {
  let got = "", sent = false;
  s.on("data", (d) => { got += d.toString("latin1"); if (!sent && got.includes("got ")) { sent = true; s.write(chunk(second) + "0\\r\\n\\r\\n"); } });
  const done = () => { process.stdout.write(got); s.destroy(); };
  s.on("end", done); s.on("error", done); s.on("close", done);
  s.write("POST " + target + " HTTP/1.1\\r\\nHost: " + host + ":" + port + "\\r\\n" + extra + "Transfer-Encoding: chunked\\r\\nConnection: close\\r\\n\\r\\n" + chunk(first));
}
if (mode === "tls") {
  raw.write("CONNECT " + host + ":" + port + " HTTP/1.1\\r\\nHost: " + host + ":" + port + "\\r\\n" + auth + "\\r\\n");
  let head = "";
  const onHead = (d) => { head += d.toString("latin1"); if (!head.includes("\\r\\n\\r\\n")) return; raw.off("data", onHead); raw.pause();
    talk(tls.connect({ socket: raw, servername: host, ca: fs.readFileSync(process.env.SSL_CERT_FILE) }), path, ""); };
  raw.on("data", onHead);
} else talk(raw, "http://" + host + ":" + port + path, auth);`;

const agent = (mode: "tls" | "plain", path: string, second: string) =>
  runCli(["run", "--", "node", "--input-type=module", "-e", agentScript, mode, "api.example.test", String(mode === "tls" ? ports.secure : ports.plain), path, FIRST, second], { env });

for (const mode of ["tls", "plain"] as const) {
  test(`${mode === "tls" ? "the raw relay" : "the node:http forwarder"}: a message ending like another key reaches the upstream whole while the agent waits`, { timeout: 120_000 }, async () => {
    const path = `/bidi-${mode}`;
    const r = await agent(mode, path, "ther things");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^HTTP\/1\.1 200 /);
    assert.match(r.stdout, new RegExp(`got ${FIRST.length}\\n`), r.stdout);
    assert.match(r.stdout, /end\n/);
    assert.equal(received.get(path), `${FIRST}ther things`);
  });

  test(`${mode === "tls" ? "the raw relay" : "the node:http forwarder"}: the key completed after the pause still trips`, { timeout: 120_000 }, async () => {
    const path = `/bidi-trip-${mode}`;
    const r = await agent(mode, path, `${OTHER.slice(3)} tail`);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /got /, "the first message went through while the agent waited");
    assert.ok(!(received.get(path) ?? "").includes(OTHER.slice(3)), "the rest of the key never arrived");
    assert.ok(!r.stdout.includes("end\n"), r.stdout);
    const audit = await runCli(["audit", "--json"], { env });
    const parsed = JSON.parse(audit.stdout) as unknown;
    const list = (Array.isArray(parsed) ? parsed : ((parsed as { entries?: unknown[] }).entries ?? [])) as { action?: string; provider?: string; host?: string }[];
    const entries = list.filter((e) => e.action === "egress.exfiltration");
    assert.ok(entries.some((e) => e.provider === "zeta" && e.host === "api.example.test"), audit.stdout);
    assert.ok(!audit.stdout.includes(OTHER), "the audit holds no key");
  });
}
