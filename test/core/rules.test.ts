import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { describe, test } from "node:test";
import { AuthsomeError } from "../../src/core/errors.ts";
import type { InjectionRule, ProviderPlugin } from "../../src/core/plugin.ts";
import {
  findMatchingRule,
  hostMatchesAnyRule,
  normaliseHost,
  normalisePath,
  parseHostRule,
  renderInjection,
  ruleMatches,
} from "../../src/core/rules.ts";
import { loadRegexEngine } from "../../src/core/rule-regex.ts";

// `regex:` rules compile on RE2, which the registry loads on demand; these tests parse directly.
await loadRegexEngine();

const matches = (rule: InjectionRule, url: string): boolean => ruleMatches(rule, new URL(url));

describe("normaliseHost", () => {
  test("lower-cases, strips trailing dots and IPv6 brackets", () => {
    assert.equal(normaliseHost("API.Example.COM."), "api.example.com");
    // One trailing dot is the FQDN spelling; two are not a name and stay distinct (src/core/host.ts).
    assert.equal(normaliseHost("api.example.com.."), "api.example.com.");
    assert.equal(normaliseHost("[::1]"), "::1");
    assert.equal(normaliseHost("bücher.example"), "xn--bcher-kva.example");
  });
});

describe("normalisePath", () => {
  test("resolves plain and percent-encoded dot segments", () => {
    assert.equal(normalisePath("/v1/../admin"), "/admin");
    assert.equal(normalisePath("/v1/%2e%2e/admin"), "/admin");
    assert.equal(normalisePath("/v1/%2E./admin"), "/admin");
    assert.equal(normalisePath("/v1/./x"), "/v1/x");
    assert.equal(normalisePath("/v1\\..\\admin"), "/admin");
  });
  test("decodes unreserved escapes only", () => {
    assert.equal(normalisePath("/%76%31/x"), "/v1/x");
    assert.equal(normalisePath("/v1%2Fadmin"), "/v1%2Fadmin");
    assert.equal(normalisePath("/a%252e"), "/a%252e");
  });
  test("keeps a leading double slash as a path", () => {
    assert.equal(normalisePath("//evil.example/x"), "//evil.example/x");
  });
});

describe("parseHostRule", () => {
  test("parses every form", () => {
    assert.deepEqual(parseHostRule("API.example.com"), { kind: "exact", host: "api.example.com", allowHttp: false });
    assert.deepEqual(parseHostRule("http://h.example:8080"), { kind: "exact", host: "h.example", allowHttp: true, port: 8080 });
    assert.equal(parseHostRule("*.example.com").kind, "wildcard");
    assert.equal(parseHostRule("regex:^a\\.b$").kind, "regex");
    assert.equal(parseHostRule("[::1]:8443").host, "::1");
  });
  test("rejects bad hosts", () => {
    for (const bad of ["regex:(", "regex:", "api.*.com", "a b", "host/path", "h:99999", "ftp://h", "user@h", ""]) {
      assert.throws(() => parseHostRule(bad), Error, bad);
    }
  });
});

describe("ruleMatches", () => {
  test("host case and trailing dot", () => {
    assert.ok(matches({ host: "api.example.com" }, "https://API.Example.COM./v1"));
  });
  test("https only unless the rule says http://", () => {
    assert.ok(!matches({ host: "api.example.com" }, "http://api.example.com/"));
    assert.ok(matches({ host: "http://api.example.com" }, "http://api.example.com/"));
    assert.ok(matches({ host: "http://api.example.com" }, "https://api.example.com/"));
    assert.ok(!matches({ host: "api.example.com" }, "ws://api.example.com/"));
  });
  test("port rules", () => {
    assert.ok(matches({ host: "api.example.com" }, "https://api.example.com:8443/"));
    assert.ok(matches({ host: "api.example.com:8443" }, "https://api.example.com:8443/"));
    assert.ok(!matches({ host: "api.example.com:8443" }, "https://api.example.com/"));
    assert.ok(matches({ host: "api.example.com:443" }, "https://api.example.com/"));
    assert.ok(matches({ host: "http://local.example:80" }, "http://local.example/"));
  });
  test("wildcard matches subdomains, not the apex", () => {
    const rule = { host: "*.example.com" };
    assert.ok(matches(rule, "https://us6.example.com/"));
    assert.ok(matches(rule, "https://a.b.example.com/"));
    assert.ok(!matches(rule, "https://example.com/"));
    assert.ok(!matches(rule, "https://evilexample.com/"));
  });
  test("regex matches the whole normalised host", () => {
    assert.ok(matches({ host: "regex:^api[0-9]+\\.example\\.com$" }, "https://API7.example.com./"));
    assert.ok(!matches({ host: "regex:^api[0-9]+\\.example\\.com$" }, "https://api.example.com.evil.net/"));
    assert.ok(matches({ host: "regex:example\\.com" }, "https://example.com/"));
    assert.ok(!matches({ host: "regex:example\\.com" }, "https://example.com.evil.net/"), "no longer a substring match");
    assert.ok(!matches({ host: "regex:example\\.com" }, "https://evil-example.com/"));
  });
  test("path prefix on segment boundaries, after normalisation", () => {
    const rule = { host: "api.example.com", pathPrefix: "/v1" };
    assert.ok(matches(rule, "https://api.example.com/v1"));
    assert.ok(matches(rule, "https://api.example.com/v1/x"));
    assert.ok(!matches(rule, "https://api.example.com/v10"));
    assert.ok(!matches(rule, "https://api.example.com/v1/../admin"));
    assert.ok(!matches({ host: "api.example.com", pathPrefix: "/v1" }, "https://api.example.com/v1/%2e%2e/admin"));
    assert.ok(matches({ host: "api.example.com", pathPrefix: "/admin" }, "https://api.example.com/v1/%2e%2e/admin"));
    assert.ok(matches({ host: "api.example.com", pathPrefix: "/v1/" }, "https://api.example.com/v1"));
  });
});

const plugin: ProviderPlugin = {
  name: "acme",
  authType: "oauth2",
  oauth: { authorizationUrl: "https://acme.example/authorize", tokenUrl: "{base_url}/oauth/token" },
  baseUrl: "https://api.acme.example",
  inject: [
    { host: "api.acme.example" },
    { host: "api.acme.example", pathPrefix: "/upload", in: "query", name: "key" },
    { host: "*.acme-cdn.example" },
  ],
};

describe("findMatchingRule", () => {
  test("longest path prefix wins, then declaration order", () => {
    assert.equal(findMatchingRule(plugin, new URL("https://api.acme.example/upload/x")), plugin.inject[1]);
    assert.equal(findMatchingRule(plugin, new URL("https://api.acme.example/other")), plugin.inject[0]);
    assert.equal(findMatchingRule(plugin, new URL("https://acme.example/")), null);
  });
  test("never injects into the provider's own OAuth endpoints", () => {
    assert.equal(findMatchingRule(plugin, new URL("https://api.acme.example/oauth/token")), null);
    const other = findMatchingRule(plugin, new URL("https://api.acme.example/oauth/token"), { baseUrl: "https://x.example" });
    assert.equal(other, plugin.inject[0]);
  });
});

describe("hostMatchesAnyRule", () => {
  test("host and port only", () => {
    assert.ok(hostMatchesAnyRule(plugin, "API.acme.example.", 443));
    assert.ok(hostMatchesAnyRule(plugin, "img.acme-cdn.example", 443));
    assert.ok(!hostMatchesAnyRule(plugin, "acme-cdn.example", 443));
    assert.ok(!hostMatchesAnyRule({ ...plugin, inject: [{ host: "api.acme.example:8443" }] }, "api.acme.example", 443));
  });
});

describe("renderInjection", () => {
  test("default header is authorization: Bearer {token}", () => {
    assert.deepEqual(renderInjection({ host: "h" }, { api_key: "k1" }), { headers: { authorization: "Bearer k1" }, query: {} });
    assert.deepEqual(renderInjection({ host: "h" }, { access_token: "t1" }).headers, { authorization: "Bearer t1" });
    assert.deepEqual(renderInjection({ host: "h" }, { api_key: "k", access_token: "t" }).headers, { authorization: "Bearer k" });
  });
  test("custom header names are lower-cased", () => {
    const out = renderInjection({ host: "h", name: "X-Api-Key", format: "{token}" }, { api_key: "k2" });
    assert.deepEqual(out.headers, { "x-api-key": "k2" });
  });
  test("query parameter", () => {
    assert.deepEqual(renderInjection({ host: "h", in: "query", name: "api_key" }, { api_key: "k3" }), {
      headers: {},
      query: { api_key: "k3" },
    });
  });
  test("basic auth", () => {
    const pair = renderInjection({ host: "h", in: "basic" }, { username: "ü", password: "p:w" });
    assert.equal(pair.headers["authorization"], `Basic ${Buffer.from("ü:p:w").toString("base64")}`);
    const stripe = renderInjection({ host: "h", in: "basic", format: "{token}:" }, { api_key: "sk_test_1" });
    assert.equal(stripe.headers["authorization"], `Basic ${Buffer.from("sk_test_1:").toString("base64")}`);
  });
  test("missing fields and control characters are errors that name the field, not the value", () => {
    assert.throws(() => renderInjection({ host: "h" }, {}), (e: unknown) => e instanceof AuthsomeError && e.code === "credential_missing" && e.message.includes("token"));
    assert.throws(
      () => renderInjection({ host: "h" }, { api_key: "secret\r\nx-evil: 1" }),
      (e: unknown) => e instanceof AuthsomeError && !e.message.includes("secret"),
    );
  });
});

describe("rendered values replace the agent's own", () => {
  test("header and query parameter are replaced, not added", () => {
    const url = new URL("https://api.acme.example/upload?key=agent-value&x=1");
    const headers = new Headers({ Authorization: "Bearer agent-value" });
    const rule = findMatchingRule(plugin, url);
    assert.ok(rule);
    const out = renderInjection(rule, { access_token: "real" });
    for (const [name, value] of Object.entries(out.query)) url.searchParams.set(name, value);
    for (const [name, value] of Object.entries(out.headers)) headers.set(name, value);
    assert.deepEqual(url.searchParams.getAll("key"), ["real"]);
    assert.equal(url.searchParams.get("x"), "1");
    const header = renderInjection({ host: "h" }, { access_token: "real" });
    for (const [name, value] of Object.entries(header.headers)) headers.set(name, value);
    assert.equal(headers.get("authorization"), "Bearer real");
  });
});
