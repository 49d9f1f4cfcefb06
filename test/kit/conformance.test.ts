/**
 * The conformance suite itself (src/kit): every OAuth flow logs in against the stand-in, every
 * injection place (header, query, Basic) is checked on what the stand-in received, wildcard and
 * regex rules get a sample host, and each static check fails on the plugin it is meant to refuse.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import type { ProviderPlugin } from "../../src/core/plugin.ts";
import { type CheckName, envCollisions, testPlugin, testPluginSource } from "../../src/kit/conformance.ts";

const apiKey: ProviderPlugin = { name: "acme", authType: "api_key", inject: [{ host: "api.acme.example" }], env: { ACME_API_KEY: "api_key" } };
const oauth = (flows: ProviderPlugin["flows"]): ProviderPlugin => ({
  name: "acme-oauth",
  authType: "oauth2",
  flows,
  oauth: { authorizationUrl: "https://acme.example/authorize", tokenUrl: "https://acme.example/token", deviceAuthorizationUrl: "https://acme.example/device", scopes: ["read"] },
  inject: [{ host: "api.acme.example" }],
});

async function failing(input: unknown): Promise<{ check: CheckName; message: string }[]> {
  const report = await testPlugin(input, "t.ts");
  assert.equal(report.ok, false);
  return report.checks.filter((c) => !c.ok && c.skipped !== true).map(({ check, message }) => ({ check, message }));
}

async function passes(input: unknown): Promise<Record<string, string>> {
  const report = await testPlugin(input, "t.ts");
  assert.ok(report.ok, JSON.stringify(report.checks, null, 2));
  assert.ok(report.checks.every((c) => c.skipped !== true), JSON.stringify(report.checks));
  return Object.fromEntries(report.checks.map((c) => [c.check, c.message]));
}

describe("login: each flow against the stand-in", () => {
  for (const flow of ["pkce", "device_code", "client_credentials", "dcr_pkce"] as const) {
    test(flow, async () => {
      const messages = await passes(oauth([flow]));
      assert.match(messages["login"] ?? "", new RegExp(`^${flow}: logged in`));
    });
  }
});

test("login: the JSON device protocol (deviceTokenRequest: json) against the stand-in, which takes only {device_code}", async () => {
  const plugin = oauth(["device_code"]);
  const messages = await passes({ ...plugin, oauth: { ...plugin.oauth, deviceTokenRequest: "json" } });
  assert.match(messages["login"] ?? "", /^device_code: logged in/);
});

describe("injection: where the rule says, on what the stand-in received", () => {
  test("query parameter, Basic pair, wildcard and regex hosts, a path prefix", async () => {
    const plugin: ProviderPlugin = {
      ...apiKey,
      inject: [
        { host: "api.acme.example", pathPrefix: "/v2", in: "query", name: "api_key" },
        { host: "*.files.acme.example", in: "basic", format: "{token}:" },
        { host: "regex:(eu|us)\\.acme-cdn\\.example", name: "X-Acme-Key", format: "{token}" },
      ],
    };
    assert.match((await passes(plugin))["injection"] ?? "", /^3 declared host\(s\)/);
  });
  test("a sign hook (module plugin, through its sandbox): the signature arrives, the key never leaves", async () => {
    const report = await testPluginSource(fileURLToPath(new URL("../fixtures/plugins/hmac-signed.ts", import.meta.url)));
    assert.ok(report.ok, JSON.stringify(report.checks, null, 2));
    assert.match(report.checks.find((c) => c.check === "injection")?.message ?? "", /signed by the plugin's hook, the key never sent/);
  });
  test("aws_sigv4: keys piped as the flow reads them, each request signed, the secret key never sent", async () => {
    const aws: ProviderPlugin = { name: "awsish", authType: "aws_sigv4", inject: [{ host: "s3.us-east-1.amazonaws.com" }], apiKey: { pattern: "^AKIA[A-Z0-9]{16}$" }, env: { AWS_ACCESS_KEY_ID: "access_key_id" } };
    const messages = await passes(aws);
    assert.match(messages["injection"] ?? "", /signed \(SigV4\), the secret key never sent/);
  });
  test("a sign hook that sends the key itself fails injection", async () => {
    const leaky = { ...apiKey, sign: (_request: unknown, credential: Record<string, string>) => ({ headers: { "X-Key": credential["api_key"] ?? "" } }) };
    const failed = await failing(leaky);
    assert.deepEqual(failed.map((c) => c.check), ["injection"]);
    assert.match(failed[0]?.message ?? "", /the key itself was sent on a signed request/);
  });
  test("a regex rule with no host to try is skipped, not failed", async () => {
    const report = await testPlugin({ ...apiKey, inject: [{ host: "regex:[a-z]{3}[0-9]{2}\\.acme\\.example" }] }, "t.ts");
    assert.ok(report.ok);
    assert.equal(report.checks.find((c) => c.check === "injection")?.skipped, true);
  });
  test("--static: no login, no request", async () => {
    const report = await testPlugin(apiKey, "t.ts", { live: false });
    assert.deepEqual(report.checks.map((c) => c.check), ["schema", "rule-safety", "placeholders", "env-names"]);
  });
});

describe("each static check fails on what it refuses", () => {
  test("schema", async () => {
    assert.deepEqual((await failing({ ...apiKey, authType: "token" })).map((c) => c.check), ["schema"]);
  });
  test("rule-safety: a regex over any domain, a wildcard on a public suffix", async () => {
    const [first] = await failing({ ...apiKey, inject: [{ host: "regex:.*" }] });
    assert.deepEqual([first?.check, /inject\[0\]\.host/.test(first?.message ?? "")], ["rule-safety", true]);
    assert.equal((await failing({ ...apiKey, inject: [{ host: "*.co.uk" }] }))[0]?.check, "rule-safety");
  });
  test("placeholders: a field the auth type never fills, the refresh token, a key pattern the run placeholder cannot follow", async () => {
    assert.match((await failing({ ...apiKey, inject: [{ host: "api.acme.example", format: "{access_token}" }] }))[0]?.message ?? "", /\{access_token\} is never set for authType "api_key"/);
    assert.match((await failing({ ...oauth(["pkce"]), inject: [{ host: "api.acme.example", format: "{refresh_token}" }] }))[0]?.message ?? "", /refresh token/);
    assert.match((await failing({ ...apiKey, apiKey: { pattern: "^(?=x)acme_[a-z]{8}$" } })).map((c) => c.message).join(), /apiKey\.pattern|lookahead/);
  });
  test("env-names: case, reserved names, fields never filled", async () => {
    const env = async (map: Record<string, string>) => (await failing({ ...apiKey, env: map }))[0];
    assert.match((await env({ acme_key: "api_key" }))?.message ?? "", /env\.acme_key.*UPPER_SNAKE/);
    assert.match((await env({ HTTPS_PROXY: "api_key" }))?.message ?? "", /sets or reads HTTPS_PROXY/);
    assert.match((await env({ AUTHSOME_KEY: "api_key" }))?.message ?? "", /AUTHSOME_KEY/);
    assert.match((await env({ ACME_TOKEN: "access_token" }))?.message ?? "", /"access_token" is never set for authType "api_key"/);
  });
  test("a failed static check skips login and injection", async () => {
    const report = await testPlugin({ ...apiKey, env: { bad: "api_key" } }, "t.ts");
    assert.deepEqual(report.checks.filter((c) => c.skipped === true).map((c) => c.check), ["login", "injection"]);
  });
});

test("envCollisions names each name two plugins map, with both providers", () => {
  const a: ProviderPlugin = { ...apiKey, name: "a", env: { SHARED_KEY: "api_key", A_KEY: "api_key" } };
  const b: ProviderPlugin = { ...apiKey, name: "b", env: { SHARED_KEY: "api_key" } };
  assert.deepEqual(envCollisions([a, b]), [{ name: "SHARED_KEY", providers: ["a", "b"] }]);
  assert.deepEqual(envCollisions([a]), []);
});
