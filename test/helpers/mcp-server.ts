/**
 * A real MCP server for the tests: the official TypeScript SDK (`McpServer`) behind its
 * bearer-auth middleware (`requireBearerAuth`, tokens checked against the test authorization
 * server of mcp-auth.ts, audience = this resource) and protected-resource metadata
 * (`mcpAuthMetadataRouter`, RFC 9728), over HTTPS from a test CA as `mcp.example.test`, with
 * both transports: Streamable HTTP at `/mcp` (POST, the GET event stream, DELETE) and the
 * legacy SSE transport at `/mcp/sse` + `/mcp/messages`. Tools: `whoami` (who the token says),
 * `notify` (sends a log notification on the session's event stream) and `admin` (needs the
 * wider `mcp:admin` scope: a 403 `insufficient_scope` otherwise, as RFC 6750 3.1 says).
 */
import { randomUUID } from "node:crypto";
import https from "node:https";
import type { AddressInfo } from "node:net";
import express, { type RequestHandler } from "express";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { SSEServerTransport } from "@modelcontextprotocol/sdk/server/sse.js";
import { requireBearerAuth } from "@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js";
import { mcpAuthMetadataRouter } from "@modelcontextprotocol/sdk/server/auth/router.js";
import { InvalidTokenError } from "@modelcontextprotocol/sdk/server/auth/errors.js";
import { createCertificateAuthority, createMemoryCaStore } from "../../src/proxy/ca.ts";
import type { McpAuthServer } from "./mcp-auth.ts";

/** A running MCP server. */
export interface TestMcpServer {
  port: number;
  /** `https://mcp.example.test:PORT` (resolved to 127.0.0.1 with AUTHSOME_UPSTREAM_RESOLVE). */
  origin: string;
  /** The Streamable HTTP endpoint and resource identifier: `${origin}/mcp`. */
  url: string;
  /** The legacy SSE endpoint. */
  sseUrl: string;
  caPem: string;
  /** Bearer tokens seen, in order, with the method and path. */
  seen: { method: string; path: string; token: string | undefined; rpc?: string; status?: number }[];
  /** Answer every request with 401 invalid_token (a server that keeps refusing). */
  refuseAll: boolean;
  close(): Promise<void>;
}

/** Options for {@link startMcpServer}. */
export interface McpServerOptions {
  auth: McpAuthServer;
  /** false: no protected-resource metadata and no `resource_metadata` in the 401 (a server that advertises nothing). */
  metadata?: boolean;
  /** The host name (default `mcp.example.test`). */
  host?: string;
}

function _mcpServer(): McpServer {
  const server = new McpServer({ name: "authsome-test-mcp", version: "1.0.0" }, { capabilities: { logging: {} } });
  server.registerTool("whoami", { description: "the token's client and scopes" }, async (extra) => ({
    content: [{ type: "text", text: JSON.stringify({ client: extra.authInfo?.clientId, scopes: extra.authInfo?.scopes, expiresAt: extra.authInfo?.expiresAt }) }],
  }));
  server.registerTool("notify", { description: "a log notification on the event stream" }, async () => {
    await server.server.sendLoggingMessage({ level: "info", data: `tick ${Date.now()}` });
    return { content: [{ type: "text", text: "sent" }] };
  });
  server.registerTool("admin", { description: "needs mcp:admin" }, async () => ({ content: [{ type: "text", text: "admin ok" }] }));
  return server;
}

/** 403 insufficient_scope for the `admin` tool without `mcp:admin` (the body is JSON-RPC). */
function _adminScope(metadataUrl: string | undefined): RequestHandler {
  return (req, res, next) => {
    const body = req.body as { method?: string; params?: { name?: string } } | undefined;
    if (body?.method === "tools/call" && body.params?.name === "admin" && !(req.auth?.scopes ?? []).includes("mcp:admin")) {
      res.set("WWW-Authenticate", `Bearer error="insufficient_scope", scope="mcp:read mcp:admin"${metadataUrl === undefined ? "" : `, resource_metadata="${metadataUrl}"`}, error_description="the admin tool needs mcp:admin"`);
      res.status(403).json({ error: "insufficient_scope" });
      return;
    }
    next();
  };
}

/** Starts the server on a random port. */
export async function startMcpServer(options: McpServerOptions): Promise<TestMcpServer> {
  const host = options.host ?? "mcp.example.test";
  const ca = await createCertificateAuthority(createMemoryCaStore());
  const leaf = await ca.leafFor(host);
  const app = express();
  const httpsServer = https.createServer({ cert: leaf.certPem, key: leaf.keyPem }, app);
  await new Promise<void>((resolve) => httpsServer.listen(0, "127.0.0.1", resolve));
  const port = (httpsServer.address() as AddressInfo).port;
  const origin = `https://${host}:${port}`;
  const url = `${origin}/mcp`;
  const seen: TestMcpServer["seen"] = [];
  const self = { refuseAll: false } as TestMcpServer;
  const metadataUrl = options.metadata === false ? undefined : `${origin}/.well-known/oauth-protected-resource/mcp`;
  app.use((req, res, next) => {
    const auth = req.headers.authorization;
    const entry: TestMcpServer["seen"][number] = { method: req.method ?? "", path: req.path, token: auth?.startsWith("Bearer ") ? auth.slice(7) : undefined };
    seen.push(entry);
    res.locals["seen"] = entry;
    res.on("finish", () => (entry.status = res.statusCode));
    if (!self.refuseAll || req.path.startsWith("/.well-known/")) return next();
    res.set("WWW-Authenticate", 'Bearer error="invalid_token"');
    res.status(401).json({ error: "invalid_token" });
  });
  if (options.metadata !== false) {
    const meta = (await (await fetch(`${options.auth.issuer}/.well-known/openid-configuration`)).json()) as { issuer: string; authorization_endpoint: string; token_endpoint: string; response_types_supported: string[] };
    app.use(mcpAuthMetadataRouter({ oauthMetadata: meta, resourceServerUrl: new URL(url), scopesSupported: ["mcp:read"], resourceName: "Test MCP" }));
  }
  const verifier = {
    async verifyAccessToken(token: string) {
      const found = await options.auth.verify(token);
      if (found === null) throw new InvalidTokenError("unknown or expired token");
      return { token, clientId: found.clientId, scopes: found.scopes, expiresAt: found.expiresAt, ...(found.resource === undefined ? {} : { resource: new URL(found.resource) }) };
    },
  };
  const bearer = requireBearerAuth({ verifier, expectedResource: new URL(url), ...(metadataUrl === undefined ? {} : { resourceMetadataUrl: metadataUrl }) });
  const streams = new Map<string, StreamableHTTPServerTransport>();
  const legacy = new Map<string, SSEServerTransport>();
  const rpc: RequestHandler = (req, res, next) => {
    const entry = res.locals["seen"] as TestMcpServer["seen"][number] | undefined;
    const method = (req.body as { method?: unknown } | undefined)?.method;
    if (entry !== undefined && typeof method === "string") entry.rpc = method;
    next();
  };
  app.post("/mcp", express.json(), rpc, bearer, _adminScope(metadataUrl), async (req, res) => {
    const id = req.headers["mcp-session-id"];
    let transport = typeof id === "string" ? streams.get(id) : undefined;
    if (transport === undefined) {
      const created = new StreamableHTTPServerTransport({ sessionIdGenerator: () => randomUUID(), onsessioninitialized: (sid) => void streams.set(sid, created) });
      transport = created;
      await _mcpServer().connect(created);
    }
    await transport.handleRequest(req, res, req.body);
  });
  const existing: RequestHandler = async (req, res) => {
    const transport = streams.get(String(req.headers["mcp-session-id"] ?? ""));
    if (transport === undefined) return void res.status(404).json({ error: "no such session" });
    await transport.handleRequest(req, res);
  };
  app.get("/mcp", bearer, existing);
  app.delete("/mcp", bearer, existing);
  app.get("/mcp/sse", bearer, async (_req, res) => {
    const transport = new SSEServerTransport("/mcp/messages", res);
    legacy.set(transport.sessionId, transport);
    res.on("close", () => legacy.delete(transport.sessionId));
    await _mcpServer().connect(transport);
  });
  app.post("/mcp/messages", express.json(), rpc, bearer, _adminScope(metadataUrl), async (req, res) => {
    const transport = legacy.get(String(req.query["sessionId"] ?? ""));
    if (transport === undefined) return void res.status(404).json({ error: "no such session" });
    await transport.handlePostMessage(req, res, req.body);
  });
  return Object.assign(self, {
    port, origin, url, sseUrl: `${url}/sse`, caPem: ca.caCertPem(), seen,
    close: () => new Promise<void>((resolve) => {
      for (const t of streams.values()) void t.close();
      for (const t of legacy.values()) void t.close();
      httpsServer.close(() => resolve());
      httpsServer.closeAllConnections();
    }),
  });
}
