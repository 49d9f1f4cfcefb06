/**
 * `authsome login <url>` against a real MCP server (the SDK's, test/helpers/mcp-server.ts) and
 * a real authorization server (oidc-provider with resource indicators, test/helpers/mcp-auth.ts),
 * through the installed CLI: discovery, each client-identity path (registration, metadata
 * document, --client-id), one registration per issuer, a strict registration endpoint, a
 * server that advertises nothing, and `mcp list`.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type McpAuthServer, PREREGISTERED_CLIENT, startMcpAuth } from "../helpers/mcp-auth.ts";
import { startMcpHome } from "../helpers/mcp-home.ts";
import { startMcpServer, type TestMcpServer } from "../helpers/mcp-server.ts";
import { clientMetadataDocument } from "../../src/mcp/client-identity.ts";

/** A client metadata document of the user's own (--client-metadata-url). */
const OWN_DOCUMENT = "https://agent.example.test/client.json";

let auth: McpAuthServer;
let cimdAuth: McpAuthServer;
let mcp: TestMcpServer;
let second: TestMcpServer;
let bare: TestMcpServer;
let cimd: TestMcpServer;

before(async () => {
  auth = await startMcpAuth({ resources: () => [mcp.url, second.url] });
  cimdAuth = await startMcpAuth({ resources: () => [cimd.url], cimd: true, documents: { [OWN_DOCUMENT]: { ...clientMetadataDocument(OWN_DOCUMENT), client_name: "my agent" } } });
  mcp = await startMcpServer({ auth });
  second = await startMcpServer({ auth, host: "tools.example.test" });
  bare = await startMcpServer({ auth, host: "bare.example.test", metadata: false });
  cimd = await startMcpServer({ auth: cimdAuth, host: "cimd.example.test" });
});
after(async () => {
  for (const s of [mcp, second, bare, cimd]) await s?.close();
  await auth?.close();
  await cimdAuth?.close();
});

interface ListedServer { name: string; url: string; issuer: string; client_identity: string; connections: { connection: string; status: string; scopes: string[]; expires_at: string | null; step_up: string[] | null }[] }

test("login by URL registers a client (DCR), logs in with PKCE and resource, and mcp list shows the server", async () => {
  const home = await startMcpHome([mcp, second]);
  try {
    const registrations = auth.stats.registrations;
    const r = await home.login(mcp.url);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`Registering authsome as a client of ${auth.issuer}`));
    assert.match(r.stderr, /✓ Logged in to the MCP server https:\/\/mcp\.example\.test:\d+\/mcp as example\/default/);
    assert.equal(auth.stats.registrations, registrations + 1);
    const listed = await home.cli(["mcp", "list", "--json"]);
    assert.equal(listed.code, 0, listed.stderr);
    const servers = (JSON.parse(listed.stdout) as { servers: ListedServer[] }).servers;
    assert.equal(servers.length, 1);
    assert.equal(servers[0]?.url, mcp.url);
    assert.equal(servers[0]?.issuer, auth.issuer);
    assert.equal(servers[0]?.client_identity, "registration");
    assert.deepEqual(servers[0]?.connections.map((c) => [c.connection, c.status, c.scopes, c.step_up]), [["default", "connected", ["mcp:read"], null]]);
    assert.ok(servers[0]?.connections[0]?.expires_at !== null);
    const inspect = await home.cli(["inspect", "example", "--json"]);
    assert.equal(inspect.code, 0, inspect.stderr);
    const rules = (JSON.parse(inspect.stdout) as { definition: { inject: { host: string; pathPrefix?: string }[] } }).definition.inject;
    assert.deepEqual(rules, [{ host: `mcp.example.test:${mcp.port}`, pathPrefix: "/mcp" }]);
    const human = await home.cli(["mcp", "list"]);
    assert.match(human.stdout, /example {2}https:\/\/mcp\.example\.test:\d+\/mcp\n {2}issuer http:\/\/127\.0\.0\.1:\d+ \(client: registration\)\n {2}default: connected; scopes mcp:read; expires /);

    // A second MCP server behind the same issuer reuses the registration (one per issuer + redirect URI).
    const again = await home.login(second.url);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /Using the client registered earlier/);
    assert.equal(auth.stats.registrations, registrations + 1);
    const both = (JSON.parse((await home.cli(["mcp", "list", "--json"])).stdout) as { servers: ListedServer[] }).servers;
    assert.deepEqual(both.map((s) => s.name).sort(), ["example", "tools-example"]);

    // An existing connection is not replaced without --force, and nothing is contacted first.
    const requests = mcp.seen.length;
    const exists = await home.login(mcp.url);
    assert.equal(exists.code, 6, exists.stderr);
    assert.match(exists.stderr, /error: example already has a connection "default"/);
    assert.equal(mcp.seen.length, requests);
  } finally {
    await home.cleanup();
  }
});

test("resource (RFC 8707) on every token request, code and refresh alike; a forged iss (RFC 9207) ends the login", async () => {
  const home = await startMcpHome([mcp]);
  try {
    const before = { code: auth.stats.tokenRequests["authorization_code"] ?? 0, refresh: auth.stats.tokenRequests["refresh_token"] ?? 0, without: auth.stats.withoutResource };
    const r = await home.login(mcp.url);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /[?&]resource=https%3A%2F%2Fmcp\.example\.test%3A\d+%2Fmcp(&|\n)/, "on the authorization request");
    // A margin above the token's lifetime forces a refresh.
    const refreshed = await home.cli(["get", "example", "--field", "access_token", "--show-secret"], { env: { AUTHSOME_REFRESH_MARGIN: "7200" } });
    assert.equal(refreshed.code, 0, refreshed.stderr);
    assert.equal((auth.stats.tokenRequests["authorization_code"] ?? 0) - before.code, 1);
    assert.equal((auth.stats.tokenRequests["refresh_token"] ?? 0) - before.refresh, 1);
    assert.equal(auth.stats.withoutResource - before.without, 0, "every token request carried resource");
    assert.equal((await auth.verify(refreshed.stdout.trim()))?.resource, mcp.url, "the refreshed token is for the MCP resource");

    auth.settings.forgeIss = true;
    const forged = await home.login(mcp.url, ["--connection", "forged"]);
    assert.equal(forged.code, 2, forged.stderr);
    assert.match(forged.stderr, /error: the authorization response does not come from Test MCP.s authorization server \(.*"iss".*\), so the login stopped/);
    assert.equal((await home.cli(["get", "example", "--connection", "forged"])).code, 3, "nothing was stored");
  } finally {
    auth.settings.forgeIss = false;
    await home.cleanup();
  }
});

test("a registration endpoint refusing optional metadata gets one retry with only what is required", async () => {
  const home = await startMcpHome([mcp]);
  auth.settings.refuseClientName = true;
  try {
    const attempts = auth.stats.registrationAttempts;
    const r = await home.login(mcp.url);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(auth.stats.registrationAttempts, attempts + 2);
  } finally {
    auth.settings.refuseClientName = false;
    await home.cleanup();
  }
});

test("--client-id uses a pre-registered client: nothing is registered", async () => {
  const home = await startMcpHome([mcp]);
  try {
    const registrations = auth.stats.registrationAttempts;
    const r = await home.login(mcp.url, ["--client-id", PREREGISTERED_CLIENT, "--json"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { client_id?: string; server: { client_identity: string } }).server.client_identity, "client_id");
    assert.equal(auth.stats.registrationAttempts, registrations);
  } finally {
    await home.cleanup();
  }
});

test("an authorization server supporting client metadata documents gets authsome's document URL as client id", async () => {
  const home = await startMcpHome([cimd]);
  try {
    const r = await home.login(cimd.url, ["--json"]);
    assert.equal(r.code, 0, r.stderr);
    const view = JSON.parse(r.stdout) as { client_id?: string; server: { client_identity: string } };
    assert.equal(view.server.client_identity, "metadata_document");
    assert.equal(view.client_id, "https://raw.githubusercontent.com/authsome-dev/authsome/main/docs/mcp-client-metadata.json");
    assert.ok(cimdAuth.stats.documents >= 1, "the authorization server fetched the document");
    assert.equal(cimdAuth.stats.registrationAttempts, 0);
    const own = await home.login(cimd.url, ["--connection", "own", "--client-metadata-url", OWN_DOCUMENT, "--json"]);
    assert.equal(own.code, 0, own.stderr);
    assert.equal((JSON.parse(own.stdout) as { client_id?: string }).client_id, OWN_DOCUMENT);
    assert.equal(cimdAuth.stats.registrationAttempts, 0);
  } finally {
    await home.cleanup();
  }
});

test("a server that advertises no metadata: one clear error naming what is missing", async () => {
  const home = await startMcpHome([bare]);
  try {
    const r = await home.login(bare.url);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /error: https:\/\/bare\.example\.test:\d+\/mcp advertises no protected-resource metadata: its 401 named no resource_metadata and https:\/\/bare\.example\.test:\d+\/\.well-known\/oauth-protected-resource\/mcp, https:\/\/bare\.example\.test:\d+\/\.well-known\/oauth-protected-resource answered none/);
    assert.equal(r.stderr.trim().split("\n").filter((l) => l.startsWith("error:")).length, 1);
  } finally {
    await home.cleanup();
  }
});

test("usage errors of a login by URL: plain http off loopback, --flow, two client identities; mcp stdio before a login", async () => {
  const home = await startMcpHome([mcp]);
  try {
    const http = await home.cli(["login", "http://mcp.example.com/mcp"]);
    assert.equal(http.code, 2);
    assert.match(http.stderr, /error: http:\/\/mcp\.example\.com: MCP servers are reached over https \(plain http only on loopback\)/);
    const flow = await home.cli(["login", mcp.url, "--flow", "device_code"]);
    assert.equal(flow.code, 2);
    assert.match(flow.stderr, /error: --flow does not apply to an MCP server's URL/);
    const both = await home.cli(["login", mcp.url, "--client-id", "a", "--client-metadata-url", "https://x.test/c.json"]);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /two client identities/);
    const bridge = await home.cli(["mcp", "stdio", mcp.url]);
    assert.equal(bridge.code, 4, bridge.stderr);
    assert.equal(bridge.stdout, "", "nothing but protocol on stdout, even for an error");
    assert.match(bridge.stderr, /error: no MCP server https:\/\/mcp\.example\.test:\d+\/mcp in this home\n.*authsome login https:\/\/mcp\.example\.test/);
  } finally {
    await home.cleanup();
  }
});
