/**
 * The core egress pipeline (src/core/egress.ts) with the real injector over a real home: the
 * decision, the rewritten request in both forms, the audit event; the one host normal form
 * (host.ts) and the one token definition (token.ts) as inject, getAccessToken and export see it.
 */
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createAuthService, type AuthService } from "../../src/core/auth-service.ts";
import { decideEgress, hostPolicy, injectionAuditEntry, injectionEvent, namesTarget } from "../../src/core/egress.ts";
import { normalizeHost } from "../../src/core/host.ts";
import { createInjector } from "../../src/core/inject.ts";
import type { Injector } from "../../src/core/injector.ts";
import { normaliseHost } from "../../src/core/rules.ts";
import { credentialToken } from "../../src/core/token.ts";
import { normalizeHost as proxyNormalizeHost, parseAuthority } from "../../src/proxy/address.ts";
import { tempHome } from "../helpers/cli.ts";

const KEY = "acme-egress-key-0001";
let home: Awaited<ReturnType<typeof tempHome>>;
let service: AuthService;
let injector: Injector;

before(async () => {
  home = await tempHome();
  const plugin = join(home.home, "acme.json");
  await writeFile(plugin, JSON.stringify({ name: "acme", authType: "api_key", inject: [{ host: "api.acme.test", pathPrefix: "/v1" }, { host: "api.acme.test", pathPrefix: "/q", in: "query", name: "key" }] }));
  service = await createAuthService({ home: home.home });
  await service.installProvider(plugin);
  await service.login("acme", { apiKey: KEY });
  await service.login("acme", { connection: "work", apiKey: "acme-egress-work-0002" });
  injector = createInjector(service.core);
});
after(async () => {
  injector.close?.();
  await service.close();
  await home.cleanup();
});

const AGENT = ["Authorization", "Bearer agent-own", "X-Authsome-Connection", "work", "X-Authsome-Debug", "1", "Proxy-Authorization", "Basic eDp5", "Connection", "keep-alive, X-Hop", "X-Hop", "1", "Transfer-Encoding", "chunked", "X-Keep", "yes"];

describe("decideEgress", () => {
  it("refuses a request naming another host than its target (421) over every transport's `named`", async () => {
    const url = new URL("https://api.acme.test:8443/v1/x");
    for (const same of ["api.acme.test:8443", "API.Acme.Test.:8443", "user@api.acme.test:8443"]) assert.ok(namesTarget(same, url), same);
    for (const other of ["evil.test:8443", "api.acme.test", "api.acme.test:443", "api.acme.test:x", "a:b:8443", ""]) assert.ok(!namesTarget(other, url), other);
    assert.ok(namesTarget("api.acme.test", new URL("https://api.acme.test/")));
    assert.ok(namesTarget("[::1]:80", new URL("http://[::1]/")));
    const refused = await decideEgress(injector, { method: "GET", url: new URL("https://api.acme.test/v1/x"), rawHeaders: [], form: "wire", authority: "api.acme.test", named: "evil.test" });
    assert.equal(refused.decision.action === "deny" ? refused.decision.status : 0, 421);
    assert.equal(refused.injection, null);
  });

  it("wire form: injects (replacing the agent's value), drops authsome's and hop-by-hop headers, restates framing", async () => {
    const url = new URL("https://api.acme.test/v1/../v1/items");
    const result = await decideEgress(injector, { method: "POST", url, rawPath: "/v1/../v1/items", rawHeaders: AGENT, form: "wire", authority: "api.acme.test" });
    assert.equal(result.decision.action, "inject");
    assert.equal(result.injection?.connection, "work", "X-Authsome-Connection chose the connection");
    assert.equal(result.path, "/v1/items", "the normalised path the decision was made on");
    assert.deepEqual(result.headers, ["Host", "api.acme.test", "X-Keep", "yes", "Transfer-Encoding", "chunked", "authorization", "Bearer acme-egress-work-0002"]);
    const event = injectionEvent(result.injection, "api.acme.test", "POST", 201);
    assert.deepEqual(event, { provider: "acme", connection: "work", host: "api.acme.test", method: "POST", status: 201 });
    assert.deepEqual(injectionAuditEntry({ ...event, status: 502 }), { action: "inject", provider: "acme", connection: "work", host: "api.acme.test", method: "POST", status: 502, outcome: "error" });
  });

  it("fetch form: no Host, no framing; the query credential lands in the URL", async () => {
    const result = await decideEgress(injector, { method: "GET", url: new URL("https://api.acme.test/q/search?key=agent&x=1"), rawHeaders: AGENT.slice(8), form: "fetch" });
    assert.equal(result.url.href, `https://api.acme.test/q/search?key=${KEY}&x=1`);
    assert.deepEqual(result.headers, ["X-Keep", "yes"]);
  });

  it("passes an undeclared host untouched but for authsome's headers; the transport's connection choice applies", async () => {
    const result = await decideEgress(injector, { method: "GET", url: new URL("https://elsewhere.test/a/../b"), rawPath: "/a/../b", rawHeaders: AGENT, form: "wire", authority: "elsewhere.test", connection: "work" });
    assert.deepEqual(result.decision, { action: "pass" });
    assert.equal(result.injection, null);
    assert.equal(result.path, "/a/../b", "nothing injected: the agent's path as sent");
    assert.ok(!result.headers.some((h) => /^(proxy-|x-authsome-)/i.test(h)));
    assert.ok(result.headers.includes("Bearer agent-own"), "the agent's own credential to its own host is its business");
    const chosen = await decideEgress(injector, { method: "GET", url: new URL("https://api.acme.test/v1/x"), rawHeaders: [], form: "fetch", connection: "work" });
    assert.equal(chosen.injection?.connection, "work");
  });

  it("hostPolicy: deny-unmatched names the host; declared hosts and allow mode pass", async () => {
    assert.deepEqual(await hostPolicy(injector, "api.acme.test", 443, true), null);
    assert.equal(await hostPolicy(injector, "elsewhere.test", 443, false), null);
    const denied = await hostPolicy(injector, "elsewhere.test", 443, true);
    assert.equal(denied?.action, "deny");
    assert.match(denied?.action === "deny" ? denied.reason : "", /elsewhere\.test .*--deny-unmatched/);
  });
});

describe("one host normal form", () => {
  it("rules, the proxy and the core agree; one trailing dot is dropped, two are not a name", () => {
    for (const [raw, want] of [["API.Acme.TEST.", "api.acme.test"], ["[FE80::1]", "fe80::1"], ["api.acme.test..", "api.acme.test."], ["bücher.example", "xn--bcher-kva.example"]] as const) {
      assert.equal(normalizeHost(raw), want, raw);
      assert.equal(normaliseHost(raw), want, raw);
      assert.equal(proxyNormalizeHost(raw), want, raw);
    }
    assert.deepEqual(parseAuthority("API.acme.test.:443"), { host: "api.acme.test", port: 443 });
    assert.equal(parseAuthority("api.acme.test..:443"), null, "refused, never matched as api.acme.test");
  });

  it("a trailing-dot request gets the same decision; a double dot gets none", async () => {
    const dotted = await decideEgress(injector, { method: "GET", url: new URL("https://API.acme.test./v1/x"), rawHeaders: [], form: "fetch" });
    assert.equal(dotted.injection?.provider, "acme");
    const doubled = await decideEgress(injector, { method: "GET", url: new URL("https://api.acme.test../v1/x"), rawHeaders: [], form: "fetch" });
    assert.equal(doubled.injection, null);
  });
});

describe("one token definition", () => {
  it("inject, getAccessToken and export give the same value", async () => {
    const injected = await decideEgress(injector, { method: "GET", url: new URL("https://api.acme.test/v1/x"), rawHeaders: [], form: "fetch" });
    const header = injected.headers[injected.headers.indexOf("authorization") + 1];
    assert.equal(header, `Bearer ${KEY}`);
    assert.equal(await service.getAccessToken("acme"), KEY);
    assert.deepEqual(await service.exportEnv("acme"), { ACME_API_KEY: KEY });
  });

  it("credentialToken: the API key first, then the access token; empty values and passwords are not tokens", () => {
    assert.equal(credentialToken({ api_key: "k", access_token: "t" }), "k");
    assert.equal(credentialToken({ api_key: "", access_token: "t" }), "t");
    assert.equal(credentialToken({ access_token: "t" }), "t");
    assert.equal(credentialToken({ username: "u", password: "p" }), undefined);
  });
});
