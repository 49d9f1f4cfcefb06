/**
 * Wrong JSON types in every field of both plugin formats (native and authsome-v1) are refused
 * with the file and the field named: an array where an object belongs used to parse as `{}`
 * and give a provider that silently injected nothing (issue 11).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { AuthsomeError } from "../../src/core/errors.ts";
import { loadPluginJson } from "../../src/core/plugin-v1.ts";

type Kind = "string" | "boolean" | "array" | "object" | "hosts";

const SAMPLES: [string, unknown, Kind[]][] = [
  ["number", 5, []],
  ["boolean", true, ["boolean"]],
  ["string", "x", ["string", "hosts"]],
  ["empty array", [], ["array"]],
  ["array of a number", [1], ["array"]],
  ["object", {}, ["object"]],
  ["null", null, []],
];

/** A copy of `base` with `value` at `path` (a.b.0.c), creating objects on the way. */
function withValue(base: Record<string, unknown>, path: (string | number)[], value: unknown): unknown {
  const copy = structuredClone(base);
  let at: Record<string | number, unknown> = copy;
  path.slice(0, -1).forEach((key) => {
    at[key] ??= {};
    at = at[key] as Record<string | number, unknown>;
  });
  at[path.at(-1) ?? ""] = value;
  return copy;
}

function shown(path: (string | number)[]): string {
  return path.reduce<string>((out, k) => (typeof k === "number" ? `${out}[${k}]` : out === "" ? k : `${out}.${k}`), "");
}

/** For each field and each sample of another type: refused naming `file` and the field. */
function checkFields(base: Record<string, unknown>, fields: [(string | number)[], Kind, string?][], nullable: boolean): void {
  for (const [path, kind, reported] of fields) {
    for (const [label, value, fits] of SAMPLES) {
      if (fits.includes(kind) || (value === null && nullable && path.length > 0 && !["name", "display_name", "auth_type", "flow"].includes(String(path[0])))) continue;
      const input = JSON.stringify(withValue(base, path, value));
      const field = reported ?? shown(path);
      assert.throws(() => loadPluginJson(input, "bad.json"), (error: unknown) => {
        assert.ok(error instanceof AuthsomeError, `${field} = ${label}: ${String(error)}`);
        assert.equal(error.code, "plugin_invalid");
        assert.ok(error.message.startsWith(`plugin bad.json: field "${field}": `), `${field} = ${label}: ${error.message}`);
        assert.ok(!error.message.includes("\n"), "one line");
        return true;
      }, `${field} = ${label} was accepted`);
    }
  }
}

describe("native plugin JSON: wrong types refused in every field", () => {
  const base = {
    name: "w", displayName: "W", authType: "oauth2", flows: ["pkce"], baseUrl: "https://w.example", docsUrl: "https://w.example/docs",
    oauth: { authorizationUrl: "https://w.example/a", tokenUrl: "https://w.example/t", scopes: ["a"], pkce: true, authorizationParams: { p: "1" } },
    apiKey: { pattern: "^k$", hint: "k", keyUrl: "https://w.example/k" },
    inject: [{ host: "w.example", pathPrefix: "/v1", in: "header", name: "Authorization", format: "Bearer {token}" }],
    env: { W_TOKEN: "access_token" },
  };
  test("the base is valid", () => assert.equal(loadPluginJson(JSON.stringify(base), "ok.json").name, "w"));
  test("each field", () => {
    checkFields(base, [
      [["name"], "string"], [["displayName"], "string"], [["authType"], "string"], [["flows"], "array"], [["flows", 0], "string"],
      [["baseUrl"], "string"], [["docsUrl"], "string"], [["oauth"], "object"], [["apiKey"], "object"], [["inject"], "array"],
      [["inject", 0], "object"], [["env"], "object"], [["env", "W_TOKEN"], "string"],
      ...["host", "pathPrefix", "in", "name", "format"].map((k): [(string | number)[], Kind] => [["inject", 0, k], "string"]),
      ...["authorizationUrl", "tokenUrl", "revocationUrl", "deviceAuthorizationUrl", "registrationUrl", "issuer", "clientAuth", "redirectUri", "scopeSeparator"]
        .map((k): [(string | number)[], Kind] => [["oauth", k], "string"]),
      [["oauth", "scopes"], "array"], [["oauth", "scopes", 0], "string"], [["oauth", "pkce"], "boolean"],
      [["oauth", "authorizationParams"], "object"], [["oauth", "authorizationParams", "p"], "string"],
      ...["pattern", "hint", "keyUrl"].map((k): [(string | number)[], Kind] => [["apiKey", k], "string"]),
    ], false);
  });
});

describe("authsome-v1 JSON: wrong types refused in every field", () => {
  const base = {
    schema_version: 1, name: "w", display_name: "W", auth_type: "oauth2", flow: "pkce", host_url: ["w.example"], docs: "https://w.example/d",
    oauth: { authorization_url: "https://w.example/a", token_url: "https://w.example/t", scopes: ["a"], pkce: true },
    registration: { registration_endpoint: "https://w.example/r" },
    api_key: { header_name: "Authorization", header_prefix: "Bearer", key_pattern: "k.*", key_pattern_hint: "k", env_var: "W_KEY" },
    export: { env: { access_token: "W_TOKEN" } },
  };
  test("the base is valid", () => assert.deepEqual(loadPluginJson(JSON.stringify(base), "ok.json").env, { W_TOKEN: "access_token", W_KEY: "api_key" }));
  test("each field", () => {
    checkFields(base, [
      [["name"], "string"], [["display_name"], "string"], [["auth_type"], "string"], [["flow"], "string"],
      [["host_url"], "hosts"], [["host_url", 0], "string", "host_url"], [["api_url"], "hosts"], [["docs"], "string"], [["docs_url"], "string"],
      [["oauth"], "object"], [["registration"], "object"], [["registration", "registration_endpoint"], "string"],
      [["api_key"], "object"], [["export"], "object"], [["export", "env"], "object", "export"], [["export", "env", "access_token"], "string", "export"],
      ...["authorization_url", "token_url", "revocation_url", "device_authorization_url", "registration_endpoint", "base_url", "token_endpoint_auth_method"]
        .map((k): [(string | number)[], Kind] => [["oauth", k], "string"]),
      [["oauth", "scopes"], "array"], [["oauth", "scopes", 0], "string"],
      ...["pkce", "supports_device_code", "supports_device_flow", "supports_dcr"].map((k): [(string | number)[], Kind] => [["oauth", k], "boolean"]),
      ...["header_name", "header_prefix", "key_pattern", "key_pattern_hint", "env_var"].map((k): [(string | number)[], Kind] => [["api_key", k], "string"]),
    ], true);
  });
  test("the shapes of issue 11, by name", () => {
    const ok = { schema_version: 1, name: "x", display_name: "X", auth_type: "api_key", flow: "api_key", host_url: "api.x.example" };
    const cases: [unknown, RegExp][] = [
      [{ ...ok, api_key: [] }, /field "api_key": expected an object, got an array/],
      [{ ...ok, api_key: [1] }, /field "api_key": expected an object, got an array/],
      [{ ...ok, host_url: [] }, /field "host_url": must list at least one host/],
      [{ ...ok, export: [] }, /field "export": expected .* got an array/],
      [{ ...ok, export: { env: { access_token: "A" }, B: "API_KEY" } }, /field "export"/],
      [{ name: "x", authType: "api_key", inject: [{ host: "a.example" }], env: [] }, /field "env": expected an object, got an array/],
      [{ ...ok, api_url: "b.x.example" }, /field "api_url": use host_url or api_url, not both/],
    ];
    for (const [input, message] of cases) assert.throws(() => loadPluginJson(JSON.stringify(input), "bad.json"), message);
  });
});
