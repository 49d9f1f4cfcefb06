/**
 * Trello through the real `authsome run` (the bundled `trello` plugin): one `KEY:TOKEN` login,
 * sent as `Authorization: OAuth oauth_consumer_key="KEY", oauth_token="TOKEN"`; the SDK-style
 * `?key=&token=` holding the run's placeholder is dropped; an API echoing either half alone (body,
 * header) shows the child neither; the token half alone sent to another provider's host is 403.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { runCli } from "../helpers/cli.ts";
import { type StandIn, startStandIn } from "../helpers/cli-upstream.ts";

const KEY = "0123456789abcdef0123456789abcdef";
const TOKEN = `ATTA${"0a1b2c3d".repeat(8)}F00DCAFE`;
let standIn: StandIn;
let env: Record<string, string>;
let trello: string;
let other: string;
const received: { url: string; authorization: string }[] = [];

/** A Trello stand-in: answers `/1/members/me` echoing each half of the header it received. */
function answer(req: { url?: string | undefined; headers: Record<string, string | string[] | undefined> }, res: { writeHead(status: number, headers: Record<string, string>): { end(body?: string): void } }): void {
  const authorization = String(req.headers["authorization"] ?? "");
  received.push({ url: req.url ?? "", authorization });
  const key = /oauth_consumer_key="([^"]*)"/.exec(authorization)?.[1] ?? "";
  const token = /oauth_token="([^"]*)"/.exec(authorization)?.[1] ?? "";
  const body = JSON.stringify({ id: "5abbe4b7ddc1b351ef961414", key, token });
  res.writeHead(200, { "content-type": "application/json", "x-echo-token": token, "content-length": String(Buffer.byteLength(body)) }).end(body);
}

before(async () => {
  standIn = await startStandIn(["api.trello.com"], answer, [[["login", "trello"], `${KEY}:${TOKEN}`]]);
  env = standIn.env;
  trello = standIn.origin("api.trello.com");
  other = standIn.origin("other.example.test");
});
after(() => standIn.close());

const run = (args: string[]) => runCli(["run", "--", ...args], { env });
const leaks = (text: string): boolean => [KEY, TOKEN, TOKEN.slice(8, 40)].some((part) => text.includes(part));

test("a login that is not KEY:TOKEN is refused with the hint", async () => {
  const r = await runCli(["login", "trello", "--connection", "bad"], { env, input: TOKEN });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /API_KEY:TOKEN/);
  assert.ok(!r.stderr.includes(TOKEN), "the refused value is not quoted");
});

test("curl: the upstream gets the OAuth header from both halves and no placeholder query; the child sees neither half", async () => {
  const r = await run(["sh", "-c", `curl -sS --fail -D - "${trello}/1/members/me?key=$TRELLO_API_KEY&token=$TRELLO_TOKEN&fields=id"; echo; echo "key=$TRELLO_API_KEY"`]);
  assert.equal(r.code, 0, r.stderr);
  const last = received.at(-1);
  assert.equal(last?.authorization, `OAuth oauth_consumer_key="${KEY}", oauth_token="${TOKEN}"`);
  assert.equal(last?.url, "/1/members/me?fields=id", "the placeholder's key= and token= were dropped");
  const placeholder = /^key=(\S+)$/m.exec(r.stdout)?.[1] ?? "";
  assert.match(placeholder, /^[0-9a-f]{32}:[A-Za-z0-9]{64,80}$/, "shaped like the pair");
  assert.ok(!leaks(r.stdout), r.stdout);
  assert.match(r.stdout, /"key":"\[authsome:redacted\]\**","token":"\[authsome:redacted\]\**"/);
  assert.match(r.stdout, /^x-echo-token: \[authsome:redacted\]\r?$/im);
});

test("the token half alone, sent to another provider's host, is 403 and never arrives", async () => {
  const before = received.length;
  const r = await run(["sh", "-c", `curl -sS -w '\\n%{http_code}\\n' -H "X-Leak: ${TOKEN}" "${other}/leak"`]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim().split("\n").at(-1), "403", r.stdout);
  assert.match(r.stdout, /stored trello credential/);
  assert.equal(received.slice(before).length, 0);
});
