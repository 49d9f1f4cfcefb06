/**
 * The OAuth building blocks without a server: device polling (slow_down, denial, expiry) with
 * an injected clock, token-response parsing, discovery URLs, and the callback server's rules.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { AuthsomeError } from "../../src/core/errors.ts";
import { startCallbackServer } from "../../src/flows/callback-server.ts";
import { pollForToken } from "../../src/flows/device-code.ts";
import { metadataUrls } from "../../src/flows/discovery.ts";
import { OAuthError, type TokenSet } from "../../src/flows/oauth-http.ts";
import { freePort } from "../helpers/oidc-server.ts";

function fakePoll(answers: string[]) {
  let now = 0;
  const sleeps: number[] = [];
  const queue = [...answers];
  return {
    sleeps,
    options: {
      poll: async (): Promise<TokenSet> => {
        const next = queue.shift() ?? "ok";
        if (next === "ok") return { accessToken: "at" };
        throw new OAuthError("provider_error", next, next);
      },
      intervalSeconds: 5,
      expiresAt: 600_000,
      sleep: async (ms: number) => void (sleeps.push(ms), (now += ms)),
      now: () => now,
      onPending: () => {},
    },
  };
}

test("device polling waits the interval, adds 5 s on slow_down, and stops on success", async () => {
  const fake = fakePoll(["authorization_pending", "slow_down", "authorization_pending", "slow_down", "ok"]);
  assert.equal((await pollForToken(fake.options)).accessToken, "at");
  assert.deepEqual(fake.sleeps, [5000, 5000, 10_000, 10_000, 15_000]);
});

test("device polling: access_denied and expired_token are clear errors; the local deadline too", async () => {
  await assert.rejects(pollForToken(fakePoll(["access_denied"]).options), (e: AuthsomeError) => e.code === "auth_cancelled" && /denied/.test(e.message));
  await assert.rejects(pollForToken(fakePoll(["expired_token"]).options), (e: AuthsomeError) => e.code === "auth_failed" && /expired/.test(e.message));
  const slow = fakePoll(Array(200).fill("authorization_pending"));
  await assert.rejects(pollForToken({ ...slow.options, expiresAt: 12_000 }), /expired/);
  assert.equal(slow.sleeps.length, 3, "stops at the code's expiry");
});

test("discovery: RFC 8414 first, then OpenID Connect, path-aware", () => {
  assert.deepEqual(metadataUrls("https://mcp.example.com/tenant1"), [
    "https://mcp.example.com/.well-known/oauth-authorization-server/tenant1",
    "https://mcp.example.com/.well-known/openid-configuration/tenant1",
    "https://mcp.example.com/tenant1/.well-known/openid-configuration",
  ]);
  assert.equal(metadataUrls("https://as.example.com").length, 2);
});

test("callback server: other paths 404 and keep waiting, the code is used once, provider text escaped", async () => {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const exchanged: string[] = [];
  const server = await startCallbackServer({ redirectUri: `${base}/cb`, state: "s1", providerName: "Test", complete: async (code) => (exchanged.push(code), code) });
  try {
    assert.equal((await fetch(`${base}/favicon.ico`)).status, 404);
    assert.equal((await fetch(`${base}/cb/extra?state=s1&code=x`)).status, 404);
    const ok = await fetch(`${base}/cb?state=s1&code=the-code`);
    assert.equal(ok.status, 200);
    assert.match(await ok.text(), /Logged in/);
    assert.equal(await server.result, "the-code");
    assert.equal((await fetch(`${base}/cb?state=s1&code=again`)).status, 400, "a second callback is refused");
    assert.deepEqual(exchanged, ["the-code"]);
  } finally {
    await server.close();
  }
  const base2 = `http://127.0.0.1:${await freePort()}`;
  const other = await startCallbackServer({ redirectUri: `${base2}/cb`, state: "s2", providerName: "Test", complete: async () => "never" });
  try {
    const denied = await fetch(`${base2}/cb?state=s2&error=access_denied&error_description=${encodeURIComponent("<b>no</b>")}`);
    assert.match(await denied.text(), /&lt;b&gt;no&lt;\/b&gt;/);
    await assert.rejects(other.result, (e: AuthsomeError) => e.code === "auth_cancelled" && /access_denied: <b>no<\/b>/.test(e.message));
  } finally {
    await other.close();
  }
});

test("bundled OAuth plugins: at least 10, endpoints resolve to https, the authorization URL carries an S256 challenge", async () => {
  const { bundledPlugins } = await import("../../plugins/index.ts");
  const { resolveEndpoints } = await import("../../src/flows/discovery.ts");
  const { authorizationUrl, DEFAULT_REDIRECT_URI } = await import("../../src/flows/pkce.ts");
  let count = 0;
  for (const load of Object.values(bundledPlugins)) {
    const plugin = (await load()).default;
    if (plugin.authType !== "oauth2") continue;
    count += 1;
    // Self-hosted providers without a default base URL get one, as `--base-url` would give.
    const needsBase = plugin.baseUrl === undefined && JSON.stringify(plugin.oauth ?? {}).includes("{base_url}");
    const endpoints = await resolveEndpoints(plugin, needsBase ? "https://tenant.example" : undefined);
    for (const url of Object.values(endpoints)) assert.match(url ?? "", /^https:\/\/[^{}]+$/, `${plugin.name}: ${url}`);
    // Machine-to-machine providers (client credentials only) have no authorization endpoint.
    if (endpoints.authorizationUrl === undefined) continue;
    const url = await authorizationUrl(plugin, endpoints.authorizationUrl, { clientId: "id" }, { redirectUri: DEFAULT_REDIRECT_URI, state: "st", verifier: plugin.oauth?.pkce === false ? null : "v".repeat(43), scopes: plugin.oauth?.scopes ?? [] });
    assert.equal(url.searchParams.get("redirect_uri"), "http://127.0.0.1:7999/callback");
    assert.equal(url.searchParams.get("code_challenge_method"), plugin.oauth?.pkce === false ? null : "S256", plugin.name);
    for (const [name, value] of Object.entries(plugin.oauth?.authorizationParams ?? {})) assert.equal(url.searchParams.get(name), value);
  }
  assert.ok(count >= 10, `${count} OAuth plugins`);
  const microsoft = (await bundledPlugins["microsoft"]!()).default;
  assert.equal((await resolveEndpoints(microsoft, "https://login.microsoftonline.com/contoso.onmicrosoft.com/")).tokenUrl, "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token");
});

test("authorization URL: S256 challenge of the verifier (RFC 7636 appendix B), every resource indicator repeated", async () => {
  const { authorizationUrl } = await import("../../src/flows/pkce.ts");
  const plugin = { name: "t", authType: "oauth2" as const, inject: [] };
  const url = await authorizationUrl(plugin, "https://as.example/auth?x=1", { clientId: "id" }, {
    redirectUri: "http://127.0.0.1:7999/callback", state: "st", verifier: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", scopes: ["a", "b"], resources: ["https://api.example/", "https://mcp.example/mcp"],
  });
  assert.equal(url.searchParams.get("code_challenge"), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
  assert.equal(url.searchParams.get("code_challenge_method"), "S256");
  assert.deepEqual(url.searchParams.getAll("resource"), ["https://api.example/", "https://mcp.example/mcp"]);
  assert.equal(url.searchParams.get("scope"), "a b");
  assert.equal(url.searchParams.get("x"), "1", "the endpoint's own query is kept");
});

test("authorization response iss (RFC 9207): a wrong iss is refused, a missing one too when advertised; without a known issuer it is not compared", async () => {
  const { checkAuthorizationResponse } = await import("../../src/flows/pkce.ts");
  const client = { clientId: "id" };
  const issuer = "https://as.example";
  const params = (extra: Record<string, string>) => new URLSearchParams({ code: "c", state: "st", ...extra });
  assert.doesNotThrow(() => checkAuthorizationResponse({ issuer }, client, params({ iss: issuer }), "st", "T"));
  assert.doesNotThrow(() => checkAuthorizationResponse({ issuer }, client, params({}), "st", "T"), "not advertised: may be absent");
  assert.throws(() => checkAuthorizationResponse({ issuer }, client, params({ iss: "https://evil.example" }), "st", "T"), (e: AuthsomeError) => e.code === "auth_failed" && /issuer/.test(e.message));
  assert.throws(() => checkAuthorizationResponse({ issuer, issParameterSupported: true }, client, params({}), "st", "T"), (e: AuthsomeError) => e.code === "auth_failed");
  assert.doesNotThrow(() => checkAuthorizationResponse({}, client, params({ iss: "https://anything.example" }), "st", "T"), "no issuer known: nothing to compare");
  assert.throws(() => checkAuthorizationResponse({ issuer }, client, params({ iss: issuer, state: "other" }), "st", "T"), (e: AuthsomeError) => e.code === "auth_failed");
});
