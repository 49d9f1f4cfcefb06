/**
 * MCP through the in-process interceptor (`authsome/intercept`): the SDK's client over
 * Streamable HTTP and SSE gets the token injected; a 401 on the SSE stream's GET gets one
 * refresh and one retry; a 403 insufficient_scope is recorded (audit, `mcp list`) and the next
 * `authsome login <url>` asks for the union of scopes; the library resolves a URL to its server.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { createAuthService, type AuthService } from "../../src/core/auth-service.ts";
import { intercept } from "../../src/intercept/index.ts";
import { type McpAuthServer, startMcpAuth } from "../helpers/mcp-auth.ts";
import { type McpHome, startMcpHome } from "../helpers/mcp-home.ts";
import { startMcpServer, type TestMcpServer } from "../helpers/mcp-server.ts";

let auth: McpAuthServer;
let mcp: TestMcpServer;
let home: McpHome;
let service: AuthService;
let restore: () => void;
const saved = { ...process.env };

before(async () => {
  auth = await startMcpAuth({ resources: () => [mcp.url] });
  mcp = await startMcpServer({ auth });
  home = await startMcpHome([mcp]);
  const r = await home.login(mcp.url);
  assert.equal(r.code, 0, r.stderr);
  for (const name of ["AUTHSOME_UPSTREAM_RESOLVE", "AUTHSOME_UPSTREAM_CA"]) process.env[name] = home.env[name];
  service = await createAuthService({ home: home.home.home, masterKey: undefined, actor: "test:intercept" });
  restore = await intercept({ service });
});
after(async () => {
  restore?.();
  await service?.close();
  for (const name of ["AUTHSOME_UPSTREAM_RESOLVE", "AUTHSOME_UPSTREAM_CA"]) if (saved[name] === undefined) delete process.env[name]; else process.env[name] = saved[name];
  await home?.cleanup();
  await mcp?.close();
  await auth?.close();
});

async function connect(url: string, kind: "http" | "sse"): Promise<Client> {
  const client = new Client({ name: "intercepted-agent", version: "1.0.0" });
  await client.connect(kind === "sse" ? new SSEClientTransport(new URL(url)) : new StreamableHTTPClientTransport(new URL(url)));
  return client;
}
const text = (result: unknown) => String((result as { content?: { text?: string }[] }).content?.[0]?.text);

test("the library gives the token for the server's URL", async () => {
  const token = await service.getAccessToken(mcp.url);
  assert.equal((await auth.verify(token))?.resource, mcp.url);
  await assert.rejects(service.getAccessToken("https://elsewhere.example.test/mcp"), /no provider is logged in for https:\/\/elsewhere\.example\.test\/mcp/);
});

for (const [kind, path] of [["http", "/mcp"], ["sse", "/mcp/sse"]] as const) {
  test(`the SDK client over ${kind === "http" ? "Streamable HTTP" : "SSE"} through the interceptor carries the stored token`, async () => {
    const token = await service.getAccessToken(mcp.url);
    const from = mcp.seen.length;
    const client = await connect(`${mcp.origin}${path}`, kind);
    try {
      assert.deepEqual(JSON.parse(text(await client.callTool({ name: "whoami", arguments: {} }))).scopes, ["mcp:read"]);
    } finally {
      await client.close();
    }
    const seen = mcp.seen.slice(from);
    assert.ok(seen.length >= 2 && seen.every((s) => s.token === token), JSON.stringify(seen.map((s) => [s.method, s.path])));
  });
}

test("a 401 on the SSE stream's GET: one refresh and one retry, then the session works", async () => {
  await auth.revoke(await service.getAccessToken(mcp.url));
  const refreshes = auth.stats.tokenRequests["refresh_token"] ?? 0;
  const from = mcp.seen.length;
  const client = await connect(`${mcp.origin}/mcp/sse`, "sse");
  try {
    assert.equal(JSON.parse(text(await client.callTool({ name: "whoami", arguments: {} }))).scopes.length, 1);
  } finally {
    await client.close();
  }
  assert.equal((auth.stats.tokenRequests["refresh_token"] ?? 0) - refreshes, 1);
  assert.equal(mcp.seen.slice(from).filter((s) => s.method === "GET" && s.path === "/mcp/sse").length, 2, "the refused GET and its one retry");
});

test("a step-up seen by the interceptor is recorded, and the next login asks for the union of scopes", async () => {
  const client = await connect(mcp.url, "http");
  try {
    await assert.rejects(client.callTool({ name: "admin", arguments: {} }), /403|insufficient_scope|Forbidden/i);
  } finally {
    await client.close();
  }
  const listed = JSON.parse((await home.cli(["mcp", "list", "--json"])).stdout) as { servers: { connections: { step_up: string[] | null }[] }[] };
  assert.deepEqual(listed.servers[0]?.connections[0]?.step_up, ["mcp:admin"]);
  const human = await home.cli(["mcp", "list"]);
  assert.match(human.stdout, /step-up needed: mcp:admin \(authsome login https:\/\/mcp\.example\.test:\d+\/mcp\)/);
  const login = await home.login(mcp.url);
  assert.equal(login.code, 0, login.stderr);
  assert.match(login.stderr, /asked for more scope; requesting: mcp:read mcp:admin/);
  const after = JSON.parse((await home.cli(["mcp", "list", "--json"])).stdout) as { servers: { connections: { scopes: string[]; step_up: string[] | null }[] }[] };
  assert.deepEqual(after.servers[0]?.connections[0]?.scopes.sort(), ["mcp:admin", "mcp:read"]);
  assert.equal(after.servers[0]?.connections[0]?.step_up, null);
});
