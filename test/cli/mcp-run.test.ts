/**
 * MCP traffic through `authsome run`: the SDK's own client in a child (Streamable HTTP: POSTs
 * and the long-lived GET event stream; the legacy SSE transport: GET stream + POSTed messages)
 * gets the stored token injected by the proxy, event by event, and never sees the token; a
 * token that expires during a long-lived stream is refreshed and used by the next request
 * while the stream stays open.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { type McpAuthServer, startMcpAuth } from "../helpers/mcp-auth.ts";
import { type McpHome, startMcpHome } from "../helpers/mcp-home.ts";
import { startMcpServer, type TestMcpServer } from "../helpers/mcp-server.ts";
import { repoRoot } from "../helpers/spawn-runtime.ts";

let auth: McpAuthServer;
let mcp: TestMcpServer;
let home: McpHome;
const fixture = join(repoRoot, "test/fixtures/mcp-client.mjs");

before(async () => {
  auth = await startMcpAuth({ resources: () => [mcp.url] });
  mcp = await startMcpServer({ auth });
  home = await startMcpHome([mcp]);
  const r = await home.login(mcp.url);
  assert.equal(r.code, 0, r.stderr);
});
after(async () => {
  await home?.cleanup();
  await mcp?.close();
  await auth?.close();
});

async function storedToken(): Promise<string> {
  // A margin of 1 s, so reading a 3 s token does not refresh it.
  const r = await home.cli(["get", "example", "--field", "access_token", "--show-secret"], { env: { AUTHSOME_REFRESH_MARGIN: "1" } });
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}

for (const [kind, path] of [["http", "/mcp"], ["sse", "/mcp/sse"]] as const) {
  test(`the SDK client over ${kind === "http" ? "Streamable HTTP" : "legacy SSE"} through authsome run gets the token injected, never in its hands`, async () => {
    const token = await storedToken();
    const from = mcp.seen.length;
    const r = await home.cli(["run", "--", "node", fixture, `${mcp.origin}${path}`, kind]);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    const result = JSON.parse(r.stdout) as { whoami: { scopes: string[] }; notes: number };
    assert.deepEqual(result.whoami.scopes, ["mcp:read"]);
    assert.equal(result.notes, 1, "the notification came over the event stream");
    const seen = mcp.seen.slice(from).filter((s) => s.path.startsWith("/mcp"));
    assert.ok(seen.some((s) => s.method === "GET"), "the event stream (GET) went through");
    assert.ok(seen.some((s) => s.method === "POST"), "messages (POST) went through");
    assert.ok(seen.every((s) => s.token === token), `every MCP request carried the stored token: ${JSON.stringify(seen.map((s) => [s.method, s.path, s.token === token]))}`);
    assert.ok(!r.stdout.includes(token) && !r.stderr.includes(token), "the child never saw the token");
  });
}

test("a token expiring during a long-lived stream is refreshed and used by the next request; the stream stays open", async () => {
  auth.settings.accessTokenTtl = 3;
  try {
    // Log in again so the stored token has the short lifetime.
    const login = await home.login(mcp.url, ["--force"]);
    assert.equal(login.code, 0, login.stderr);
    const refreshes = auth.stats.tokenRequests["refresh_token"] ?? 0;
    const from = mcp.seen.length;
    // The fixture waits for the token's expiry as the server counts it (exp: whole seconds,
    // floored when the token was made) plus 250 ms; the broker counts from when the answer
    // reached it (expires_in), up to 1 s plus the answer's latency later. With a 1 s margin the
    // broker still held the old token as valid when the token was made late in a second and its
    // answer took over 250 ms to arrive (a loaded machine), and the run got the 401; 2 s covers
    // a latency up to 1.25 s.
    const r = await home.cli(["run", "--", "node", fixture, mcp.url, "http"], { env: { MCP_WAIT_EXPIRY: "1", AUTHSOME_REFRESH_MARGIN: "2" } });
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    const result = JSON.parse(r.stdout) as { notes: number; whoamiAfter: { expiresAt: number }; whoami: { expiresAt: number } };
    assert.equal(result.notes, 2, "both notifications arrived on the one stream");
    assert.ok(result.whoamiAfter.expiresAt > result.whoami.expiresAt, "the second call ran on a new token");
    // One refresh at least (a slow start can put the first call inside the margin too).
    assert.ok((auth.stats.tokenRequests["refresh_token"] ?? 0) - refreshes >= 1, "the token was refreshed");
    const seen = mcp.seen.slice(from);
    const gets = seen.filter((s) => s.method === "GET" && s.path === "/mcp");
    assert.equal(gets.length, 1, "one event stream for the whole session");
    const posts = seen.filter((s) => s.method === "POST");
    assert.notEqual(posts.at(-1)?.token, gets[0]?.token, "the request after the expiry carried a newer token than the open stream's");
  } finally {
    auth.settings.accessTokenTtl = 3600;
  }
});

test("through authsome run: a 403 insufficient_scope is recorded for mcp list, and a revoked token is refreshed for the next run", async () => {
  const r = await home.cli(["run", "--", "node", fixture, mcp.url, "http"], { env: { MCP_ADMIN: "1" } });
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  assert.match((JSON.parse(r.stdout) as { admin: string }).admin, /^error: .*insufficient_scope/);
  const listed = JSON.parse((await home.cli(["mcp", "list", "--json"])).stdout) as { servers: { connections: { step_up: string[] | null }[] }[] };
  assert.deepEqual(listed.servers[0]?.connections[0]?.step_up, ["mcp:admin"]);

  const token = await storedToken();
  await auth.revoke(token);
  const refreshes = auth.stats.tokenRequests["refresh_token"] ?? 0;
  const refused = await home.cli(["run", "--", "node", fixture, mcp.url, "http"]);
  assert.notEqual(refused.code, 0, "the run whose token was revoked got the 401");
  const next = await home.cli(["run", "--", "node", fixture, mcp.url, "http"]);
  assert.equal(next.code, 0, `${next.stdout}\n${next.stderr}`);
  assert.equal((auth.stats.tokenRequests["refresh_token"] ?? 0) - refreshes, 1, "the dead token was refreshed once");
  assert.notEqual(await storedToken(), token);
});

test("through authsome run: a 401 on the SSE stream's GET gets one refresh and one retry, and the session works", async () => {
  const token = await storedToken();
  await auth.revoke(token);
  const refreshes = auth.stats.tokenRequests["refresh_token"] ?? 0;
  const from = mcp.seen.length;
  const r = await home.cli(["run", "--", "node", fixture, `${mcp.origin}/mcp/sse`, "sse"]);
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  assert.equal((auth.stats.tokenRequests["refresh_token"] ?? 0) - refreshes, 1);
  const gets = mcp.seen.slice(from).filter((s) => s.method === "GET" && s.path === "/mcp/sse");
  assert.deepEqual(gets.map((g) => [g.token === token, g.status === 401]), [[true, true], [false, false]], "the refused GET, then its one retry with the refreshed token");
});
