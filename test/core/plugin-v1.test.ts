import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { describe, test } from "node:test";
import { AuthsomeError } from "../../src/core/errors.ts";
import { fromV1, isV1, loadPluginJson } from "../../src/core/plugin-v1.ts";
import { findMatchingRule, renderInjection } from "../../src/core/rules.ts";
import { loadRegexEngine } from "../../src/core/rule-regex.ts";

// `regex:` rules compile on RE2, which the registry loads on demand; these tests validate directly.
await loadRegexEngine();

const fixture = (name: string): Promise<string> =>
  readFile(new URL(`../fixtures/plugins/${name}`, import.meta.url), "utf8");

function rejects(input: unknown, field: string, problem: RegExp): void {
  assert.throws(
    () => fromV1(input, "v1.json"),
    (error: unknown) => {
      assert.ok(error instanceof AuthsomeError && error.code === "plugin_invalid", String(error));
      assert.ok(error.message.startsWith(`plugin v1.json: field "${field}":`), error.message);
      assert.match(error.message, problem);
      return true;
    },
  );
}

describe("authsome-v1 files", () => {
  test("api_key provider: header, bare prefix, fullmatch pattern, env_var, docs", async () => {
    const plugin = loadPluginJson(await fixture("v1-acme-crm.json"), "v1-acme-crm.json");
    assert.deepEqual(plugin, {
      name: "acme-crm",
      displayName: "Acme CRM",
      authType: "api_key",
      flows: ["api_key"],
      inject: [{ host: "api.acme-crm.example", name: "X-Api-Key", format: "{token}" }],
      apiKey: {
        pattern: "^(?:acme_[a-z0-9]{16})$",
        hint: "Acme CRM keys start with 'acme_' followed by 16 lowercase letters or digits.",
      },
      env: { ACME_CRM_API_KEY: "api_key", ACME_CRM_KEY: "api_key" },
      docsUrl: "https://developers.acme-crm.example/auth",
    });
    const pattern = new RegExp(plugin.apiKey?.pattern ?? "");
    assert.ok(pattern.test("acme_0123456789abcdef"));
    assert.ok(!pattern.test("xacme_0123456789abcdefx"), "re.fullmatch semantics");
    const rule = findMatchingRule(plugin, new URL("https://api.acme-crm.example/contacts"));
    assert.ok(rule);
    assert.deepEqual(renderInjection(rule, { api_key: "k" }).headers, { "x-api-key": "k" });
  });

  test("oauth2 provider: base_url, device flow, api_url list with regex, flat export", async () => {
    const plugin = loadPluginJson(await fixture("v1-forge.json"), "v1-forge.json");
    assert.equal(plugin.name, "forge");
    assert.deepEqual(plugin.flows, ["pkce", "device_code"]);
    assert.equal(plugin.baseUrl, "https://forge.example");
    assert.deepEqual(plugin.oauth, {
      authorizationUrl: "{base_url}/login/oauth/authorize",
      tokenUrl: "{base_url}/login/oauth/access_token",
      deviceAuthorizationUrl: "{base_url}/login/device/code",
      scopes: ["repo", "read:user"],
      pkce: true,
    });
    assert.deepEqual(plugin.inject, [{ host: "api.forge.example" }, { host: "regex:^(?:.*\\.forgeusercontent\\.example)$" }]);
    assert.deepEqual(plugin.env, { FORGE_TOKEN: "access_token", FORGE_ACCESS_TOKEN: "access_token" }, "flat map: the default name too, never the refresh token");
    assert.equal(plugin.docsUrl, "https://docs.forge.example/oauth");
    assert.ok(findMatchingRule(plugin, new URL("https://raw.FORGEusercontent.example/x")));
    assert.equal(findMatchingRule(plugin, new URL("https://raw.forgeusercontent.example.evil.net/x")), null);
    assert.equal(findMatchingRule(plugin, new URL("https://forge.example/")), null);
  });

  test("client_credentials extension: URL host_url gives a path prefix", async () => {
    const plugin = loadPluginJson(await fixture("v1-ledger-m2m.json"), "v1-ledger-m2m.json");
    assert.deepEqual(plugin.flows, ["client_credentials"]);
    assert.equal(plugin.oauth?.clientAuth, "client_secret_post");
    assert.deepEqual(plugin.inject, [{ host: "api.ledger.example", pathPrefix: "/v2" }]);
    assert.ok(findMatchingRule(plugin, new URL("https://api.ledger.example/v2/accounts")));
    assert.equal(findMatchingRule(plugin, new URL("https://api.ledger.example/v1/accounts")), null);
    assert.deepEqual(plugin.env, { LEDGER_ACCESS_TOKEN: "access_token" });
  });

  test("host forms: http://, port, {base_url}, defaults", () => {
    const v1 = {
      schema_version: 1,
      name: "h",
      display_name: "H",
      auth_type: "api_key",
      flow: "api_key_prompt",
      api_key: {},
      host_url: ["http://local.example:8080", "api.h.example:8443/v1"],
    };
    const plugin = fromV1(v1, "x");
    assert.deepEqual(plugin.flows, ["api_key"]);
    assert.deepEqual(plugin.inject, [
      { host: "http://local.example:8080", name: "Authorization", format: "Bearer {token}" },
      { host: "api.h.example:8443", pathPrefix: "/v1", name: "Authorization", format: "Bearer {token}" },
    ]);
    const templated = fromV1({ ...v1, auth_type: "oauth2", flow: "pkce", api_key: undefined, host_url: "{base_url}/api",
      oauth: { base_url: "https://git.corp.example/", authorization_url: "{base_url}/a", token_url: "{base_url}/t" } }, "x");
    assert.deepEqual(templated.inject, [{ host: "git.corp.example", pathPrefix: "/api" }]);
  });

  test("detects v1 vs native", async () => {
    assert.ok(isV1({ schema_version: 1 }));
    assert.ok(!isV1({ name: "x" }));
    const native = loadPluginJson(await fixture("native-widget.json"), "native-widget.json");
    assert.equal(native.name, "widget");
  });
});

describe("bad v1 files name the file and field", () => {
  const ok = { schema_version: 1, name: "x", display_name: "X", auth_type: "api_key", flow: "api_key", host_url: "api.x.example" };
  test("required, types and enums", () => {
    const { display_name: _, ...noDisplay } = ok;
    rejects(noDisplay, "display_name", /required/);
    rejects({ ...ok, schema_version: 2 }, "schema_version", /1/);
    rejects({ ...ok, auth_type: "browser" }, "auth_type", /oauth2/);
    rejects({ ...ok, flow: "magic" }, "flow", /pkce/);
    rejects({ ...ok, host_url: 5 }, "host_url", /string/);
  });
  test("hosts, patterns, export", () => {
    rejects({ ...ok, host_url: "regex:(" }, "host_url", /invalid regex/);
    rejects({ ...ok, host_url: ["a.example", "regex:["] }, "host_url[1]", /invalid regex/);
    rejects({ ...ok, host_url: "{base_url}/x" }, "host_url", /base_url/);
    rejects({ ...ok, api_key: { key_pattern: "(" } }, "api_key.key_pattern", /invalid regex/);
    rejects({ ...ok, auth_type: "oauth2", flow: "pkce", oauth: { token_url: "https://t.example" } }, "oauth.authorization_url", /required by flow "pkce"/);
    rejects({ ...ok, auth_type: "oauth2", flow: "pkce", oauth: { authorization_url: "nope", token_url: "https://t.example" } }, "oauth.authorization_url", /invalid URL/);
    rejects({ ...ok, auth_type: "oauth2", flow: "device_code", oauth: { token_url: "https://t.example" } }, "oauth.device_authorization_url", /device_code/);
    rejects({ ...ok, export: { env: { secret: "X" } } }, "export.env.secret", /unknown credential field/);
  });
  test("typos of known keys are refused; other unknown keys ignored", () => {
    rejects({ ...ok, host_ur: "x" }, "host_ur", /did you mean "host_url"/);
    rejects({ ...ok, api_key: { header_nam: "X" } }, "api_key.header_nam", /header_name/);
    assert.equal(fromV1({ ...ok, logo: "x", metadata: {}, categories: ["crm"] }, "x").name, "x");
  });
  test("native validation still applies (name)", () => {
    rejects({ ...ok, name: "Bad Name" }, "name", /must match/);
  });
  test("invalid JSON", () => {
    assert.throws(() => loadPluginJson("{", "broken.json"), /plugin broken.json: invalid JSON/);
    assert.throws(() => loadPluginJson("[]", "list.json"), /expected a JSON object/);
  });
});
