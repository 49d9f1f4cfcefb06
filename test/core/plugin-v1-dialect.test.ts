import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { describe, test } from "node:test";
import { AuthsomeError } from "../../src/core/errors.ts";
import { loadPluginText } from "../../src/core/plugin-jsonc.ts";
import { fromV1 } from "../../src/core/plugin-v1.ts";
import { loadRegexEngine } from "../../src/core/rule-regex.ts";
import { findMatchingRule } from "../../src/core/rules.ts";

await loadRegexEngine();

const fixture = (name: string): Promise<string> => readFile(new URL(`../fixtures/plugins/${name}`, import.meta.url), "utf8");

function refused(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof AuthsomeError && error.code === "plugin_invalid", String(error));
    assert.match(error.message, message);
    return true;
  });
}

const apiKeyV1 = { schema_version: 1, name: "acme", display_name: "Acme", auth_type: "api_key", flow: "api_key", api_url: "api.acme.example", api_key: {} };
const oauthV1 = {
  ...apiKeyV1, auth_type: "oauth2", flow: "pkce", api_key: undefined,
  oauth: { authorization_url: "https://acme.example/authorize", token_url: "https://acme.example/token" },
};

describe("the newer v1 dialect (.jsonc, api_url, flat export)", () => {
  test("a .jsonc file with comments and trailing commas loads and means what Python meant", async () => {
    const plugin = loadPluginText(await fixture("v1-forge-flat.jsonc"), "forge.jsonc", "jsonc");
    assert.equal(plugin.name, "forge-flat");
    assert.deepEqual(plugin.flows, ["pkce"]);
    assert.deepEqual(plugin.inject, [{ host: "api.forge.example" }, { host: "regex:^(?:(.*\\.)?forgeusercontent\\.example)$" }]);
    // ACCESS_TOKEN and API_TOKEN are the token; the default <NAME>_ACCESS_TOKEN is exported too; never the refresh token.
    assert.deepEqual(plugin.env, { FORGE_TOKEN: "access_token", GH_STYLE_TOKEN: "access_token", FORGE_URL: "base_url", FORGE_FLAT_ACCESS_TOKEN: "access_token" });
    assert.equal(plugin.docsUrl, "https://docs.forge.example/oauth");
    assert.ok(findMatchingRule(plugin, new URL("https://raw.forgeusercontent.example/x")));
    assert.equal(findMatchingRule(plugin, new URL("https://forgeusercontent.example.evil.net/")), null);
  });

  test("flat values: API_TOKEN and ACCESS_TOKEN are an API-key provider's key", () => {
    const plugin = fromV1({ ...apiKeyV1, export: { ACME_KEY: "API_TOKEN", ACME_TOKEN: "access_token" } }, "x");
    assert.deepEqual(plugin.env, { ACME_KEY: "api_key", ACME_TOKEN: "api_key", ACME_API_KEY: "api_key" });
  });

  test("an anchored key_pattern is wrapped once, so the run placeholder follows it", async () => {
    const plugin = fromV1({ ...apiKeyV1, api_key: { key_pattern: "^sk-[A-Za-z0-9_-]{20,}$" }, export: { ACME_KEY: "API_TOKEN" } }, "x");
    assert.equal(plugin.apiKey?.pattern, "^(?:sk-[A-Za-z0-9_-]{20,})$");
    const { createPlaceholder } = await import("../../src/core/placeholder.ts");
    assert.match(createPlaceholder(plugin), /^sk-authsome-[A-Za-z0-9_-]{24}$/);
  });

  test("nested export naming the token replaces the default name; naming another field keeps it", () => {
    assert.deepEqual(fromV1({ ...oauthV1, export: { env: { access_token: "ACME_AT" } } }, "x").env, { ACME_AT: "access_token" });
    assert.deepEqual(fromV1({ ...oauthV1, name: "acme--two", export: { env: { refresh_token: "R" } } }, "x").env, { ACME_TWO_ACCESS_TOKEN: "access_token" });
  });

  test("API_URL is refused naming the entry; an unknown value too", () => {
    refused(() => fromV1({ ...apiKeyV1, export: { ACME_URL: "API_URL" } }, "x.jsonc"), /^plugin x\.jsonc: field "export\.ACME_URL": "API_URL" is not exported/);
    refused(() => fromV1({ ...apiKeyV1, export: { ACME_URL: "SECRET" } }, "x.jsonc"), /field "export\.ACME_URL": unknown credential field "SECRET"/);
  });

  test("dcr_pkce without a registration endpoint is accepted (discovered at login)", async () => {
    const plugin = loadPluginText(await fixture("v1-tracker-dcr.json"), "tracker.json", "json");
    assert.deepEqual(plugin.flows, ["dcr_pkce"]);
    assert.equal(plugin.oauth?.registrationUrl, undefined);
    assert.deepEqual(plugin.env, { TRACKER_ACCESS_TOKEN: "access_token" });
  });
});

describe("errors name the file, the line and the field", () => {
  test("a .json file with comments: line, column and the .jsonc hint", () => {
    const text = "{\n  \"schema_version\": 1,\n  // a comment\n  \"name\": \"x\"\n}\n";
    refused(() => loadPluginText(text, "x.json", "json"), /^plugin x\.json:3:3: a comment, which JSON does not allow: rename the file to \.jsonc/);
    refused(() => loadPluginText("{\"a\": 1,}", "t.json", "json"), /^plugin t\.json:1:9: a trailing comma, which JSON does not allow/);
  });

  test("a .jsonc syntax error: line, column and the field being read", () => {
    const text = "// head\n{\n  \"oauth\": {\n    \"scopes\": [\"a\" \"b\"]\n  }\n}\n";
    refused(() => loadPluginText(text, "s.jsonc", "jsonc"), /^plugin s\.jsonc:4:20: field "oauth\.scopes\[0\]": invalid JSONC \(comma expected\)/);
    refused(() => loadPluginText("{ \"name\": }", "j.json", "json"), /^plugin j\.json:1:11: field "name": invalid JSON \(value expected\)/);
  });

  test("a field error in a .jsonc file gives the field's line", () => {
    const text = JSON.stringify({ ...apiKeyV1, api_url: ["api.acme.example", "regex:.*"] }, null, 2);
    refused(() => loadPluginText(`// Acme\n${text}`, "a.jsonc", "jsonc"), /^plugin a\.jsonc:10: field "api_url\[1\]": matches hosts of any domain/);
    const missing = `// Acme\n{ "schema_version": 1,\n  "name": "acme" }`;
    refused(() => loadPluginText(missing, "m.jsonc", "jsonc"), /^plugin m\.jsonc:2: field "display_name": required/);
  });
});
