/**
 * The token client on oauth4webapi against a scripted token endpoint (a real HTTP server on
 * 127.0.0.1): client authentication encoded one way for every grant (RFC 6749 2.3.1), provider
 * departures evened out (GitHub's errors with HTTP 200, numbers as strings, comma-separated
 * scopes, a missing or provider-specific token_type), and errors that never carry our secrets.
 */
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, test } from "node:test";
import type { AuthsomeError } from "../../src/core/errors.ts";
import type { OAuthError } from "../../src/flows/oauth-http.ts";
import { clientCredentialsToken, type GrantContext, refreshTokens, revokeToken } from "../../src/flows/token-client.ts";

interface Seen {
  authorization: string | undefined;
  body: URLSearchParams;
}

let answer: { status: number; body: unknown } = { status: 200, body: {} };
const seen: Seen[] = [];
const server = createServer((req: IncomingMessage, res: ServerResponse) => {
  let raw = "";
  req.on("data", (chunk: Buffer) => (raw += chunk.toString()));
  req.on("end", () => {
    seen.push({ authorization: req.headers.authorization, body: new URLSearchParams(raw) });
    res.writeHead(answer.status, { "content-type": "application/json" });
    res.end(JSON.stringify(answer.body));
  });
});
let base = "";

before(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

const grant = (client: GrantContext["client"], resources: string[] = []): GrantContext => ({
  endpoints: { tokenUrl: `${base}/token`, revocationUrl: `${base}/revoke` },
  client,
  resources,
  what: "Test refused",
});

test("client_secret_basic form-encodes id and secret (RFC 6749 2.3.1); post puts them in the body; none sends only the id", async () => {
  answer = { status: 200, body: { access_token: "at-1", token_type: "Bearer" } };
  const id = "app id:1+ü";
  const secret = "s3cr3t/+=% x";
  await refreshTokens(grant({ clientId: id, clientSecret: secret }), "rt-1");
  const basic = seen.at(-1);
  const encode = (value: string) => encodeURIComponent(value).replaceAll("%20", "+").replaceAll(/[!'()*~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  assert.equal(basic?.authorization, `Basic ${Buffer.from(`${encode(id)}:${encode(secret)}`).toString("base64")}`);
  assert.equal(basic?.body.get("client_secret"), null);
  await refreshTokens(grant({ clientId: id, clientSecret: secret, method: "client_secret_post" }), "rt-1");
  const post = seen.at(-1);
  assert.equal(post?.authorization, undefined);
  assert.deepEqual([post?.body.get("client_id"), post?.body.get("client_secret")], [id, secret]);
  await clientCredentialsToken(grant({ clientId: "public" }, ["https://a.example/", "https://b.example/"]), "x y");
  const none = seen.at(-1);
  assert.equal(none?.authorization, undefined);
  assert.equal(none?.body.get("client_id"), "public");
  assert.equal(none?.body.get("scope"), "x y");
  assert.deepEqual(none?.body.getAll("resource"), ["https://a.example/", "https://b.example/"], "every resource indicator, repeated");
});

test("token responses: numbers as strings, comma-separated scopes, a missing token_type and a provider's own type are accepted", async () => {
  answer = { status: 200, body: { access_token: "at-2", expires_in: "120", scope: "repo,gist" } };
  const parsed = await refreshTokens(grant({ clientId: "c" }), "rt-2");
  assert.deepEqual(parsed.scopes, ["repo", "gist"]);
  assert.equal(parsed.tokenType, "bearer");
  assert.ok(Math.abs(Date.parse(parsed.expiresAt ?? "") - Date.now() - 120_000) < 5000);
  answer = { status: 200, body: { access_token: "xoxb-1", token_type: "bot", refresh_token: "rt-3" } };
  const slack = await refreshTokens(grant({ clientId: "c" }), "rt-2");
  assert.deepEqual([slack.accessToken, slack.tokenType, slack.refreshToken], ["xoxb-1", "bot", "rt-3"]);
});

test("token errors, even with HTTP 200, are OAuthErrors naming the provider's code, without our secrets", async () => {
  answer = { status: 200, body: { error: "bad_verification_code", error_description: "code rt-secret-9 is wrong" } };
  await assert.rejects(refreshTokens(grant({ clientId: "c" }), "rt-secret-9"), (e: OAuthError) => {
    assert.equal(e.oauthCode, "bad_verification_code");
    assert.equal(e.message, "Test refused: bad_verification_code: code <redacted> is wrong");
    return true;
  });
  answer = { status: 400, body: { error: "invalid_grant" } };
  await assert.rejects(refreshTokens(grant({ clientId: "c", clientSecret: "client-secret-1" }), "rt-4"), (e: OAuthError) => e.oauthCode === "invalid_grant" && e.code === "provider_error");
  answer = { status: 200, body: { token: "x", token_type: "bearer" } };
  await assert.rejects(refreshTokens(grant({ clientId: "c" }), "rt-5"), (e: AuthsomeError) => e.code === "provider_error" && /access_token/.test(e.message));
  answer = { status: 502, body: "upstream down" };
  await assert.rejects(refreshTokens(grant({ clientId: "c" }), "rt-6"), (e: AuthsomeError) => e.code === "provider_error" && !e.message.includes("rt-6"));
});

test("revocation sends the token with its hint and the same client authentication; an unreachable server is endpoint_unreachable", async () => {
  answer = { status: 200, body: {} };
  await revokeToken(grant({ clientId: "c", clientSecret: "client-secret-2" }), "rt-7", "refresh_token");
  const revoke = seen.at(-1);
  assert.deepEqual([revoke?.body.get("token"), revoke?.body.get("token_type_hint")], ["rt-7", "refresh_token"]);
  assert.match(revoke?.authorization ?? "", /^Basic /);
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const nowhere: GrantContext = { ...grant({ clientId: "c" }), endpoints: { tokenUrl: `http://127.0.0.1:${port}/token` } };
  await assert.rejects(refreshTokens(nowhere, "rt-8"), (e: AuthsomeError) => e.code === "endpoint_unreachable" && e.message.includes(`127.0.0.1:${port}`));
});

test("plain http:// is refused off loopback (usage, naming the host) and allowed on 127.0.0.1", async () => {
  const remote: GrantContext = { ...grant({ clientId: "c" }), endpoints: { tokenUrl: "http://as.example.test/token" } };
  await assert.rejects(refreshTokens(remote, "rt-9"), (e: AuthsomeError) => e.code === "usage" && /as\.example\.test is plain http:\/\//.test(e.message));
  answer = { status: 200, body: { access_token: "at-9", token_type: "bearer" } };
  assert.equal((await refreshTokens(grant({ clientId: "c" }), "rt-9")).accessToken, "at-9");
});
