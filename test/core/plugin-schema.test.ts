import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { AuthsomeError } from "../../src/core/errors.ts";
import { closeNames, validatePlugin } from "../../src/core/plugin-schema.ts";
import { loadRegexEngine } from "../../src/core/rule-regex.ts";

// `regex:` rules compile on RE2, which the registry loads on demand; these tests validate directly.
await loadRegexEngine();

const base = { name: "widget", authType: "api_key", inject: [{ host: "api.widget.example" }] };

/** Asserts validation fails with plugin_invalid and a message naming source and field. */
function rejects(input: unknown, field: string, problem: RegExp): void {
  assert.throws(
    () => validatePlugin(input, "./my.json"),
    (error: unknown) => {
      assert.ok(error instanceof AuthsomeError, String(error));
      assert.equal(error.code, "plugin_invalid");
      const prefix = field === "" ? "plugin ./my.json: " : `plugin ./my.json: field "${field}": `;
      assert.ok(error.message.startsWith(prefix), `${error.message} should start with ${prefix}`);
      assert.match(error.message, problem);
      return true;
    },
  );
}

describe("validatePlugin: accepted", () => {
  test("minimal plugin, returned as a copy", () => {
    const out = validatePlugin(base, "x");
    assert.deepEqual(out, base);
    assert.notEqual(out, base);
  });
  test("every host form, templates and oauth flows", () => {
    const plugin = {
      name: "forge_2",
      displayName: "Forge",
      authType: "oauth2",
      flows: ["pkce", "device_code", "client_credentials", "dcr_pkce"],
      baseUrl: "https://forge.example",
      oauth: {
        authorizationUrl: "{base_url}/oauth/authorize",
        tokenUrl: "{base_url}/oauth/token",
        deviceAuthorizationUrl: "{base_url}/oauth/device",
        registrationUrl: "https://forge.example/register",
        scopes: ["repo", "read:user"],
        pkce: true,
        clientAuth: "client_secret_post",
        authorizationParams: { access_type: "offline" },
      },
      inject: [
        { host: "api.forge.example" },
        { host: "*.forge.example", pathPrefix: "/api" },
        { host: "http://localhost:8080", in: "query", name: "token", format: "{access_token}" },
        { host: "regex:^api[0-9]+\\.forge\\.example$", in: "basic", format: "{client_id}:{token}" },
      ],
      env: { FORGE_TOKEN: "access_token" },
      docsUrl: "https://forge.example/docs",
    };
    assert.deepEqual(validatePlugin(plugin, "x"), plugin);
  });
  test("dcr_pkce with an issuer instead of a registration URL", () => {
    validatePlugin({ ...base, authType: "oauth2", flows: ["dcr_pkce"], oauth: { issuer: "https://mcp.example" } }, "x");
  });
});

describe("validatePlugin: refused with source and field", () => {
  test("names", () => {
    rejects({ ...base, name: "My Widget" }, "name", /must match/);
    rejects({ ...base, name: "../etc" }, "name", /must match/);
    rejects({ ...base, name: "a".repeat(65) }, "name", /must match/);
    rejects({ ...base, name: 42 }, "name", /expected string/);
  });
  test("missing and unknown", () => {
    const { authType: _, ...noAuth } = base;
    rejects(noAuth, "authType", /required/);
    rejects({ ...base, authType: "bearer" }, "authType", /must be one of "oauth2" \| "api_key" \| "basic"/);
    rejects({ ...base, injekt: [] }, "injekt", /unknown field \(did you mean "inject"\?\)/);
    rejects({ ...base, inject: [{ host: "h.example", fromat: "{token}" }] }, "inject[0].fromat", /did you mean "format"/);
    rejects({ ...base, oauth: { tokenURL: "https://x.example" } }, "oauth.tokenURL", /did you mean "tokenUrl"/);
    rejects(null, "", /expected an object, got null/);
  });
  test("host rules", () => {
    rejects({ ...base, inject: [{ host: "regex:(" }] }, "inject[0].host", /invalid regex/);
    rejects({ ...base, inject: [{ host: "ok.example" }, { host: "api.*.example" }] }, "inject[1].host", /\*/);
    rejects({ ...base, inject: [{ host: "api.example/v1" }] }, "inject[0].host", /expected host/);
    rejects({ ...base, inject: [{ host: "api.example:0" }] }, "inject[0].host", /port/);
    rejects({ ...base, inject: "api.example" }, "inject", /expected Array/);
  });
  test("rule fields", () => {
    rejects({ ...base, inject: [{ host: "h.example", in: "query" }] }, "inject[0].name", /required for in: "query"/);
    rejects({ ...base, inject: [{ host: "h.example", format: "Bearer {tokn}" }] }, "inject[0].format", /unknown placeholder \{tokn\}/);
    rejects({ ...base, inject: [{ host: "h.example", format: "Bearer token" }] }, "inject[0].format", /placeholder/);
    rejects({ ...base, inject: [{ host: "h.example", name: "Bad Header" }] }, "inject[0].name", /invalid header/);
    rejects({ ...base, inject: [{ host: "h.example", name: "Host" }] }, "inject[0].name", /reserved/);
    rejects({ ...base, inject: [{ host: "h.example", pathPrefix: "v1" }] }, "inject[0].pathPrefix", /start with \//);
  });
  test("urls, patterns, env", () => {
    rejects({ ...base, docsUrl: "not a url" }, "docsUrl", /invalid URL/);
    rejects({ ...base, baseUrl: "{base_url}/x" }, "baseUrl", /invalid URL/);
    rejects({ ...base, apiKey: { pattern: "([a-z" } }, "apiKey.pattern", /invalid regex/);
    rejects({ ...base, env: { "BAD-NAME": "api_key" } }, "env.BAD-NAME", /env variable/);
    rejects({ ...base, env: { TOKEN: "secret" } }, "env.TOKEN", /must be one of/);
    rejects({ ...base, env: { TOKEN: "refresh_token" } }, "env", /never exported/);
  });
  test("flows fit the auth type and have their endpoints", () => {
    rejects({ ...base, flows: ["pkce"] }, "flows", /needs authType "oauth2"/);
    rejects({ ...base, flows: [] }, "flows", /empty/);
    rejects({ ...base, authType: "oauth2" }, "oauth", /required for authType "oauth2"/);
    rejects({ ...base, authType: "oauth2", flows: ["api_key"], oauth: {} }, "flows", /api_key/);
    const oauth2 = { ...base, authType: "oauth2" };
    rejects({ ...oauth2, oauth: { tokenUrl: "https://t.example" } }, "oauth.authorizationUrl", /required by flow "pkce"/);
    rejects({ ...oauth2, flows: ["device_code"], oauth: { tokenUrl: "https://t.example" } }, "oauth.deviceAuthorizationUrl", /device_code/);
    rejects({ ...oauth2, flows: ["client_credentials"], oauth: {} }, "oauth.tokenUrl", /client_credentials/);
    rejects({ ...oauth2, flows: ["dcr_pkce"], oauth: {} }, "oauth.registrationUrl", /dcr_pkce/);
    rejects({ ...oauth2, flows: ["pkce", "pkce"], oauth: {} }, "flows", /repeat/);
  });
  test("several problems: the first is named, the rest counted", () => {
    rejects({ ...base, name: "Bad", docsUrl: "x" }, "name", /and 1 more/);
  });
});

describe("closeNames", () => {
  test("suggests near names, closest first", () => {
    assert.deepEqual(closeNames("opena", ["openai", "anthropic", "groq"]), ["openai"]);
    assert.deepEqual(closeNames("grok", ["groq", "openai"]), ["groq"]);
    assert.deepEqual(closeNames("zzz", ["groq", "openai"]), []);
  });
});
