/**
 * `explain` (src/core/explain.ts): which provider, connection and rule a URL would get, or why
 * none, from metadata alone: it agrees with the one injector on every URL tried, never holds a
 * secret in its answer, and sends nothing (a local token endpoint sees no request even for an
 * expired OAuth connection).
 */
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { createAuthService, type AuthService } from "../../src/core/auth-service.ts";
import { explain } from "../../src/core/explain.ts";
import { createInjector } from "../../src/core/inject.ts";
import { tempHome } from "../helpers/cli.ts";

const MASTER = Buffer.alloc(32, 7).toString("base64");
const OPENAI_KEY = "sk-explaintest00000000000000";
const WIDGET_TOKEN = "wgt-explain-access-token-0001";
let home: Awaited<ReturnType<typeof tempHome>>;
let service: AuthService;
let tokenRequests = 0;
const tokenServer = createServer((_req, res) => {
  tokenRequests += 1;
  res.writeHead(500).end();
});

before(async () => {
  home = await tempHome();
  await new Promise<void>((resolve) => tokenServer.listen(0, "127.0.0.1", resolve));
  const port = (tokenServer.address() as { port: number }).port;
  service = await createAuthService({ home: home.home, storage: "memory", masterKey: MASTER });
  await service.login("openai", { apiKey: OPENAI_KEY });
  const plugin = join(home.home, "widget.json");
  await writeFile(plugin, JSON.stringify({
    name: "widget", authType: "oauth2",
    oauth: { authorizationUrl: "https://api.widget.test/oauth/authorize", tokenUrl: `http://127.0.0.1:${port}/token` },
    inject: [{ host: "api.widget.test", pathPrefix: "/v2", in: "query", name: "access_token" }, { host: "api.widget.test", pathPrefix: "/oauth" }],
  }));
  await service.installProvider(plugin);
  // An OAuth connection whose token expired an hour ago, with a refresh token: a real injection would refresh it first.
  const vault = await service.core.vault();
  const now = new Date().toISOString();
  const meta = { provider: "widget", connection: "work", authType: "oauth2" as const, flow: "pkce", status: "connected" as const, scopes: ["read"], expiresAt: new Date(Date.now() - 3_600_000).toISOString(), createdAt: now, updatedAt: now, clientId: "widget-client" };
  await vault.write(meta, { access_token: WIDGET_TOKEN, refresh_token: "wgt-refresh-0001" });
  await vault.setDefault("widget", "work");
});

after(async () => {
  await service.close();
  await new Promise<void>((resolve) => tokenServer.close(() => resolve()));
  await home.cleanup();
});

test("an API-key provider: provider, connection, rule and placement, never the key", async () => {
  const result = await explain(service.core, "https://api.openai.com/v1/models?api_key=sk-pasted-by-user-000000");
  assert.equal(result.applies, true);
  assert.equal(result.provider, "openai");
  assert.equal(result.connection, "default");
  assert.deepEqual(result.placement, { in: "header", name: "Authorization", value: "Bearer <api key>" });
  assert.deepEqual(result.rule, { host: "api.openai.com", path_prefix: null });
  assert.equal(result.url, "https://api.openai.com/v1/models", "query and user info are not echoed");
  assert.equal(result.intercepted, true);
  assert.equal(result.deny_unmatched, "allowed");
  assert.match(result.reason, /OpenAI connection "default" would be injected as header Authorization: Bearer <api key>/);
  assert.ok(!JSON.stringify(result).includes(OPENAI_KEY));
  assert.ok(!JSON.stringify(result).includes("sk-pasted"));
});

test("no provider declares the host: passes untouched, denied under --deny-unmatched", async () => {
  const result = await explain(service.core, "example.com/anything");
  assert.equal(result.applies, false);
  assert.equal(result.url, "https://example.com/anything", "a bare host/path is taken as https");
  assert.deepEqual(result.candidates, []);
  assert.equal(result.deny_unmatched, "denied");
  assert.equal(result.intercepted, false);
  assert.match(result.reason, /no provider declares example\.com/);
});

test("a provider that declares the host but has no connection says how to log in", async () => {
  const result = await explain(service.core, "https://api.github.com/user");
  assert.equal(result.applies, false);
  assert.equal(result.candidates[0]?.provider, "github");
  assert.equal(result.candidates[0]?.outcome, "not_connected");
  assert.match(result.reason, /authsome login github/);
  assert.equal(result.deny_unmatched, "denied");
});

test("expired OAuth connection, query placement and path prefix; nothing is sent to the token endpoint", async () => {
  const result = await explain(service.core, "https://api.widget.test/v2/items");
  assert.equal(result.applies, true);
  assert.equal(result.connection, "work");
  assert.deepEqual(result.placement, { in: "query", name: "access_token", value: "<access token>" });
  assert.deepEqual(result.rule, { host: "api.widget.test", path_prefix: "/v2" });
  assert.match(result.reason, /expired: the proxy refreshes it first/);
  assert.equal(tokenRequests, 0, "explain sent nothing upstream");
  assert.ok(!JSON.stringify(result).includes(WIDGET_TOKEN));
});

test("why none: a path no rule covers, an OAuth endpoint, plain http to an https-only rule, a missing named connection", async () => {
  const uncovered = await explain(service.core, "https://api.widget.test/v1/items");
  assert.equal(uncovered.candidates[0]?.outcome, "no_rule");
  const oauth = await explain(service.core, "https://api.widget.test/oauth/authorize");
  assert.equal(oauth.applies, false);
  assert.equal(oauth.candidates[0]?.outcome, "oauth_endpoint");
  const plain = await explain(service.core, "http://api.openai.com/v1/models");
  assert.equal(plain.applies, false);
  assert.equal(plain.candidates[0]?.outcome, "plain_http");
  const named = await explain(service.core, "https://api.openai.com/v1/models", { connection: "personal" });
  assert.equal(named.applies, false);
  assert.equal(named.candidates[0]?.outcome, "connection_not_found");
  assert.match(named.reason, /the request would fail: openai has no connection "personal"/);
  await assert.rejects(explain(service.core, "ftp://api.openai.com/"), { code: "usage" });
  await assert.rejects(explain(service.core, "https://exa mple.com/"), { code: "usage" });
});

test("a signed provider (AWS SigV4) is described as a signature, not a header value", async () => {
  const vault = await service.core.vault();
  const now = new Date().toISOString();
  await vault.write({ provider: "aws", connection: "default", authType: "aws_sigv4", flow: "api_key", status: "connected", createdAt: now, updatedAt: now }, { access_key_id: "AKIAEXPLAINTEST00001", secret_access_key: "explainSecretKey/0123456789+abcdefABCD" });
  const result = await explain(service.core, "https://s3.us-east-1.amazonaws.com/bucket/key");
  assert.equal(result.applies, true);
  assert.equal(result.provider, "aws");
  assert.equal(result.placement?.in, "signature");
  assert.match(result.reason, /would be used to sign the request: Authorization: AWS4-HMAC-SHA256/);
  assert.ok(!JSON.stringify(result).includes("explainSecretKey") && !JSON.stringify(result).includes("AKIAEXPLAINTEST"));
  await vault.remove("aws", "default");
});

test("explain agrees with the injector on which provider and connection a URL gets", async () => {
  const injector = createInjector(service.core);
  const urls = ["https://api.openai.com/v1/models", "https://API.OpenAI.com./v1", "https://api.openai.com:8443/x", "http://api.openai.com/v1", "https://api.github.com/user", "https://api.widget.test/v2/a/../b", "https://api.widget.test/v2/%2e%2e/admin", "https://api.widget.test/v20", "https://api.widget.test/oauth/authorize", "https://example.com/"];
  try {
    for (const url of urls) {
      const explained = await explain(service.core, url);
      // The widget connection is expired: the injector would refresh it (and fail against our 500 server), so ask with a fresh view.
      if (explained.provider === "widget") continue;
      const decided = await injector.decide(new URL(url));
      assert.equal(explained.provider, decided?.provider ?? null, url);
      assert.equal(explained.connection, decided?.connection ?? null, url);
    }
  } finally {
    injector.close?.();
  }
  const dot = await explain(service.core, "https://api.widget.test/v2/%2e%2e/admin");
  assert.equal(dot.applies, false, "dot segments are resolved before the path prefix is checked");
});
