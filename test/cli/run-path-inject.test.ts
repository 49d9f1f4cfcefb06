/**
 * Path injection through the real `authsome run` (the bundled `telegram` plugin): the child's
 * TELEGRAM_BOT_TOKEN is a placeholder, its client puts it in the path (`/bot<placeholder>/getMe`)
 * and the upstream standing for api.telegram.org receives `/bot<token>/getMe`; the token echoed
 * in a body or a redirect's Location is scrubbed, the audit log holds neither it nor the path,
 * and the placeholder sent to another provider's host is 403. curl and a Node child's fetch.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { runCli } from "../helpers/cli.ts";
import { type StandIn, startStandIn } from "../helpers/cli-upstream.ts";

const TOKEN = "7012345678:AAH-real_bot_token_0123456789abcdefXY";
let standIn: StandIn;
let env: Record<string, string>;
let telegram: string;
let other: string;
/** The paths the upstream received, with the host each was sent to. */
const received: { host: string; url: string }[] = [];

/** A Bot API stand-in: echoes the path it received (token included), or redirects keeping it. */
function answer(req: { url?: string | undefined; headers: { host?: string | undefined } }, res: { writeHead(status: number, headers: Record<string, string>): { end(body?: string): void } }): void {
  const url = req.url ?? "";
  received.push({ host: (req.headers.host ?? "").replace(/:\d+$/, ""), url });
  if (url.endsWith("/redirect")) return void res.writeHead(302, { location: `https://${req.headers.host ?? ""}${url.replace(/redirect$/, "getMe")}`, "content-length": "0" }).end();
  const body = JSON.stringify({ ok: true, result: { path: url } });
  res.writeHead(200, { "content-type": "application/json", "content-length": String(Buffer.byteLength(body)) }).end(body);
}

before(async () => {
  standIn = await startStandIn(["api.telegram.org"], answer, [[["login", "telegram"], TOKEN]]);
  env = standIn.env;
  telegram = standIn.origin("api.telegram.org");
  other = standIn.origin("other.example.test");
});
after(() => standIn.close());

const run = (args: string[]) => runCli(["run", "--", ...args], { env });
const tokenParts = [TOKEN, TOKEN.split(":")[1] ?? "", encodeURIComponent(TOKEN)];
const leaks = (text: string): boolean => tokenParts.some((part) => text.includes(part));

test("curl: the upstream gets /bot<token>/getMe, the child sees only the placeholder and a scrubbed echo", async () => {
  const r = await run(["sh", "-c", `echo "placeholder=$TELEGRAM_BOT_TOKEN"; curl -sS --fail "${telegram}/bot$TELEGRAM_BOT_TOKEN/getMe"; echo; curl -sS -o /dev/null -D - "${telegram}/bot$TELEGRAM_BOT_TOKEN/redirect"`]);
  assert.equal(r.code, 0, r.stderr);
  const placeholder = /^placeholder=(\S+)$/m.exec(r.stdout)?.[1] ?? "";
  assert.match(placeholder, /^[0-9]{6,12}:[A-Za-z0-9_-]{30,60}$/, "shaped like a bot token");
  assert.notEqual(placeholder, TOKEN);
  assert.ok(received.some((q) => q.url === `/bot${TOKEN}/getMe`), JSON.stringify(received));
  assert.ok(!received.some((q) => q.url.includes(placeholder)), "the placeholder never reached the upstream");
  assert.ok(!leaks(r.stdout), r.stdout);
  assert.match(r.stdout, /"path":"\/bot\[authsome:redacted\]\**\/getMe"/);
  assert.match(r.stdout, /^location: https:\/\/api\.telegram\.org:\d+\/bot%5Bauthsome%3Aredacted%5D\/getMe\r?$/im);
});

test("a Node child's fetch: Response.url keeps the placeholder, the body no token; the audit log holds neither", async () => {
  const script = `const r = await fetch(process.argv[1] + "/bot" + process.env.TELEGRAM_BOT_TOKEN + "/getMe"); console.log(r.url, await r.text());`;
  const r = await run(["node", "--input-type=module", "-e", script, telegram]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(!leaks(r.stdout), r.stdout);
  assert.match(r.stdout, /^https:\/\/api\.telegram\.org:\d+\/bot\d+:authsome-[A-Za-z0-9_-]+\/getMe \{"ok":true,"result":\{"path":"\/bot\[authsome:redacted\]\**\/getMe"\}\}/);
  const audit = await runCli(["audit", "--json"], { env });
  assert.equal(audit.code, 0, audit.stderr);
  assert.match(audit.stdout, /"action":\s*"inject"[^}]*"provider":\s*"telegram"|"provider":\s*"telegram"[^}]*"action":\s*"inject"/);
  assert.ok(!leaks(audit.stdout) && !audit.stdout.includes("/getMe"), "no token and no path in the audit log");
});

test("a path without the placeholder goes unchanged; the placeholder to another provider's host is 403", async () => {
  const before = received.length;
  const r = await run(["sh", "-c", `curl -sS -o /dev/null -w '%{http_code}\\n' "${telegram}/botOWN:token/getMe"; curl -sS -w '\\n%{http_code}\\n' "${other}/bot$TELEGRAM_BOT_TOKEN/getMe"`]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split("\n");
  assert.equal(lines[0], "200");
  assert.equal(lines.at(-1), "403", r.stdout);
  assert.match(r.stdout, /telegram placeholder .*other\.example\.test/);
  const fresh = received.slice(before);
  assert.deepEqual(fresh.map((q) => q.url), ["/botOWN:token/getMe"], "only the unchanged request arrived");
});
