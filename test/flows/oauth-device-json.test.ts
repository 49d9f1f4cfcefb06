/**
 * `oauth.deviceTokenRequest: "json"` (Python: `device_token_request: "json"`, the bundled
 * postiz) against a local server that speaks Postiz's CLI protocol and refuses anything else:
 * the code request a form with no client unless one is given, each token poll exactly
 * `{"device_code": ...}` as JSON; `authorization_pending` once, then the token.
 */
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { runCli, tempHome } from "../helpers/cli.ts";

interface Seen {
  path: string;
  contentType: string;
  body: string;
}

let server: Server;
let origin: string;
let home: Awaited<ReturnType<typeof tempHome>>;
const seen: Seen[] = [];
/** Device code -> polls answered so far; "deny-" codes are refused after one pending answer. */
const polls = new Map<string, number>();
let next = 0;
const cli = (args: string[]) => runCli(args, { env: home.env });

function read(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let text = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => (text += chunk));
    req.on("end", () => resolve(text));
  });
}

before(async () => {
  server = createServer(async (req, res) => {
    const body = await read(req);
    const contentType = req.headers["content-type"] ?? "";
    seen.push({ path: req.url ?? "", contentType, body });
    const reply = (status: number, value: unknown) => res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(value));
    if (req.url === "/device/code") {
      const form = new URLSearchParams(body);
      const code = `${form.get("scope") === "deny" ? "deny" : "dev"}-${(next += 1)}`;
      return reply(200, { device_code: code, user_code: "PSTZ-0001", verification_uri: `${origin}/device`, expires_in: 600, interval: 1 });
    }
    if (req.url !== "/device/token") return reply(404, { error: "not_found" });
    let poll: unknown;
    try {
      poll = JSON.parse(body);
    } catch {
      poll = undefined;
    }
    const only = typeof poll === "object" && poll !== null && "device_code" in poll && Object.keys(poll).length === 1 ? poll.device_code : undefined;
    const code = typeof only === "string" ? only : "";
    if (!contentType.startsWith("application/json") || !/^(dev|deny)-\d+$/.test(code)) {
      return reply(400, { error: "invalid_request", error_description: "expected a JSON body {device_code}" });
    }
    const count = (polls.get(code) ?? 0) + 1;
    polls.set(code, count);
    if (count === 1) return reply(400, { error: "authorization_pending" });
    if (code.startsWith("deny-")) return reply(400, { error: "access_denied" });
    reply(200, { access_token: `postiz-token-${code}`, api_url: "https://api.postiz.com", organization_id: "org-1" });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  home = await tempHome();
  // The Python authsome's postiz.json, pointed at the local server.
  const v1 = {
    schema_version: 1,
    name: "postiz-local",
    display_name: "Postiz (local)",
    auth_type: "oauth2",
    flow: "device_code",
    api_url: "api.postiz-local.example",
    oauth: { authorization_url: `${origin}/oauth/authorize`, token_url: `${origin}/device/token`, device_authorization_url: `${origin}/device/code`, device_token_request: "json", scopes: [], supports_device_code: true },
    export: { POSTIZ_LOCAL_ACCESS_TOKEN: "ACCESS_TOKEN" },
  };
  const file = join(home.home, "postiz-local.json");
  await writeFile(file, JSON.stringify(v1));
  const r = await cli(["providers", "add", file]);
  assert.equal(r.code, 0, r.stderr);
});
after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await home.cleanup();
});

test("a v1 file with device_token_request json: logged in without a client, polls as JSON {device_code}", async () => {
  seen.length = 0;
  const r = await cli(["login", "postiz-local"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /enter the code: PSTZ-0001/);
  const [code, ...tokenPolls] = seen;
  assert.deepEqual(code, { path: "/device/code", contentType: "application/x-www-form-urlencoded", body: "" });
  assert.equal(tokenPolls.length, 2, JSON.stringify(seen));
  for (const poll of tokenPolls) assert.deepEqual(poll, { path: "/device/token", contentType: "application/json", body: JSON.stringify({ device_code: "dev-1" }) });
  const got = await cli(["get", "postiz-local", "--json", "--show-secret"]);
  assert.equal((JSON.parse(got.stdout) as { secrets: { access_token: string } }).secrets.access_token, "postiz-token-dev-1");
  const inspected = await cli(["inspect", "postiz-local", "--json"]);
  assert.equal((JSON.parse(inspected.stdout) as { definition: { oauth: { deviceTokenRequest?: string } } }).definition.oauth.deviceTokenRequest, "json");
});

test("a --client-id goes on the code request only; a denial ends the login (exit 2)", async () => {
  seen.length = 0;
  const r = await cli(["login", "postiz-local", "--connection", "denied", "--client-id", "cli-app", "--scopes", "deny"]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /the login was denied in the browser/);
  assert.deepEqual(new URLSearchParams(seen[0]?.body), new URLSearchParams({ scope: "deny", client_id: "cli-app" }));
  assert.deepEqual(seen.slice(1).map((s) => s.body), [JSON.stringify({ device_code: "deny-2" }), JSON.stringify({ device_code: "deny-2" })]);
});

test("the bundled postiz declares the JSON device protocol", async () => {
  const r = await cli(["inspect", "postiz", "--json"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal((JSON.parse(r.stdout) as { definition: { oauth: { deviceTokenRequest?: string } } }).definition.oauth.deviceTokenRequest, "json");
});
