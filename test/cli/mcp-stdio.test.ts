/**
 * `authsome mcp stdio <url>` driven by the SDK's own StdioClientTransport, as Claude Desktop or
 * Cursor would run it: MCP over stdio to the client, Streamable HTTP (or the SSE fallback) to
 * the server with the token injected; nothing but protocol on stdout; a clean exit when stdin
 * closes; a 401 mid-session gets one refresh and one retry, never more; 20 bridges started
 * after expiry refresh the rotating token once and the grant survives; a step-up re-authorizes
 * with the union of scopes.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { LoggingMessageNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { cliCommand } from "../helpers/cli.ts";
import { type McpAuthServer, startMcpAuth } from "../helpers/mcp-auth.ts";
import { type McpHome, startMcpHome } from "../helpers/mcp-home.ts";
import { startMcpServer, type TestMcpServer } from "../helpers/mcp-server.ts";

let auth: McpAuthServer;
let mcp: TestMcpServer;
let home: McpHome;

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

interface Bridge {
  client: Client;
  errors: Error[];
  stderr: () => string;
  /** Closes stdin and resolves with the bridge's exit code. */
  close(): Promise<number | null>;
}

async function bridge(url: string, env: Record<string, string> = {}): Promise<Bridge> {
  const { command, args } = cliCommand();
  const transport = new StdioClientTransport({ command, args: [...args, "mcp", "stdio", url], env: { ...home.env, NO_COLOR: "1", ...env }, stderr: "pipe" });
  let stderr = "";
  transport.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  const client = new Client({ name: "stdio-test", version: "1.0.0" });
  const errors: Error[] = [];
  client.onerror = (error) => errors.push(error);
  await client.connect(transport);
  const pid = transport.pid;
  return {
    client, errors, stderr: () => stderr,
    close: async () => {
      const exited = new Promise<number | null>((resolve) => {
        const child = (transport as unknown as { _process?: import("node:child_process").ChildProcess })._process;
        if (child === undefined || child.exitCode !== null) return resolve(child?.exitCode ?? null);
        child.once("exit", (code) => resolve(code));
      });
      // Closing stdin alone: the bridge must end by itself (the SDK would signal it after 2 s).
      (transport as unknown as { _process?: { stdin?: { end(): void } } })._process?.stdin?.end();
      const code = await Promise.race([exited, new Promise<"timeout">((r) => setTimeout(() => r("timeout"), 15_000))]);
      await client.close().catch(() => {});
      assert.notEqual(code, "timeout", `the bridge (pid ${pid}) did not exit after stdin closed`);
      return code === "timeout" ? null : code;
    },
  };
}

const textOf = (result: unknown) => (result as { content?: { text?: string }[] }).content?.[0]?.text;
const whoami = async (client: Client) => JSON.parse(String(textOf(await client.callTool({ name: "whoami", arguments: {} })))) as { scopes: string[]; expiresAt: number };

for (const [kind, path] of [["Streamable HTTP", "/mcp"], ["the SSE fallback", "/mcp/sse"]] as const) {
  test(`the SDK stdio client through the bridge over ${kind}: tools, server notifications, only protocol on stdout, clean exit`, async () => {
    const b = await bridge(`${mcp.origin}${path}`);
    const notes: unknown[] = [];
    let noted = () => {};
    b.client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => (notes.push(n.params.data), noted()));
    const arrived = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no notification within 10 s")), 10_000);
      noted = () => (clearTimeout(timer), resolve());
    });
    assert.deepEqual((await whoami(b.client)).scopes, ["mcp:read"]);
    await b.client.callTool({ name: "notify", arguments: {} });
    await arrived;
    assert.equal(await b.close(), 0, b.stderr());
    assert.deepEqual(b.errors, [], "the client parsed every line on stdout");
    if (path === "/mcp/sse") assert.match(b.stderr(), /refused Streamable HTTP \(HTTP 404\); using the SSE transport/);
    const audit = JSON.parse((await home.cli(["audit", "--json"])).stdout) as { entries: { action: string; provider?: string; host?: string; method?: string; status?: number }[] };
    assert.ok(audit.entries.some((e) => e.action === "inject" && e.provider === "example" && e.host === "mcp.example.test" && e.method === "POST" && e.status === 200), "the bridge's requests are audited");
  });
}

const calls = (from: number) => mcp.seen.slice(from).filter((s) => s.rpc === "tools/call");
const trace = (from: number, b: Bridge) => `${JSON.stringify(mcp.seen.slice(from).map((x) => [x.method, x.path, x.rpc, x.status, x.token?.slice(0, 6)]))}\n${b.stderr()}`;

test("a 401 mid-session: one refresh and one retry, and the call succeeds", async () => {
  const b = await bridge(mcp.url);
  try {
    const start = mcp.seen.length;
    await whoami(b.client);
    const used = calls(start).at(-1)?.token ?? "";
    await auth.revoke(used);
    const refreshes = auth.stats.tokenRequests["refresh_token"] ?? 0;
    const from = mcp.seen.length;
    assert.deepEqual((await whoami(b.client).catch((e: Error) => assert.fail(`${e.message}\n${b.stderr()}`))).scopes, ["mcp:read"]);
    assert.equal((auth.stats.tokenRequests["refresh_token"] ?? 0) - refreshes, 1, trace(from, b));
    const tries = calls(from);
    assert.deepEqual(tries.map((t) => [t.status, t.token === used]), [[401, true], [200, false]], `the refused call and its one retry: ${trace(from, b)}`);
  } finally {
    await b.close();
  }
});

test("a token the server keeps refusing: one refresh, one retry, then an error to the client (no loop)", async () => {
  const b = await bridge(mcp.url);
  try {
    await whoami(b.client);
    const refreshes = auth.stats.tokenRequests["refresh_token"] ?? 0;
    const from = mcp.seen.length;
    mcp.refuseAll = true;
    await assert.rejects(whoami(b.client), (error: Error) => (assert.match(error.message, /refused the token after a refresh/, b.stderr()), true));
    assert.equal((auth.stats.tokenRequests["refresh_token"] ?? 0) - refreshes, 1, trace(from, b));
    assert.equal(mcp.seen.slice(from).filter((s) => s.method === "POST").length, 2, trace(from, b));
  } finally {
    mcp.refuseAll = false;
    await b.close();
  }
});

test("20 bridges started after expiry: exactly one token request, one token for all, and the grant stays alive", async () => {
  auth.settings.accessTokenTtl = 30;
  const login = await home.login(mcp.url, ["--force"]);
  assert.equal(login.code, 0, login.stderr);
  auth.settings.accessTokenTtl = 3600;
  // A 60 s margin makes the 30 s token due for refresh at once, and the refreshed one not.
  const env = { AUTHSOME_REFRESH_MARGIN: "60" };
  const refreshes = auth.stats.tokenRequests["refresh_token"] ?? 0;
  const from = mcp.seen.length;
  const bridges = await Promise.all(Array.from({ length: 20 }, () => bridge(mcp.url, env)));
  try {
    await Promise.all(bridges.map((b) => whoami(b.client)));
    assert.equal((auth.stats.tokenRequests["refresh_token"] ?? 0) - refreshes, 1, "one refresh for twenty bridges");
    assert.equal(auth.stats.reusedRefreshTokens, 0);
    const tokens = new Set(mcp.seen.slice(from).filter((s) => s.method === "POST").map((s) => s.token));
    assert.equal(tokens.size, 1, "every bridge used the one refreshed token");
  } finally {
    await Promise.all(bridges.map((b) => b.close()));
  }
  // The grant is alive: another refresh (forced by a margin above the lifetime) succeeds.
  const again = await home.cli(["get", "example", "--field", "access_token", "--show-secret"], { env: { AUTHSOME_REFRESH_MARGIN: "7200" } });
  assert.equal(again.code, 0, again.stderr);
});

test("step-up: a 403 insufficient_scope makes the bridge re-authorize once with the union of scopes, then the call succeeds", async () => {
  const b = await bridge(mcp.url);
  try {
    const result = await b.client.callTool({ name: "admin", arguments: {} });
    assert.equal(textOf(result), "admin ok", b.stderr());
    assert.match(b.stderr(), /asked for more scope; requesting: mcp:read mcp:admin/);
    const listed = await home.cli(["mcp", "list", "--json"]);
    const conn = (JSON.parse(listed.stdout) as { servers: { connections: { scopes: string[]; step_up: string[] | null }[] }[] }).servers[0]?.connections[0];
    assert.deepEqual(conn?.scopes.sort(), ["mcp:admin", "mcp:read"]);
    assert.equal(conn?.step_up, null);
    const audit = await home.cli(["audit", "--json"]);
    assert.ok((JSON.parse(audit.stdout) as { entries: { action: string; error?: string }[] }).entries.some((e) => e.action === "mcp_step_up" && e.error === "insufficient_scope"));
  } finally {
    await b.close();
  }
});
