/**
 * The dashboard's routes through `app.request()` (src/server/ui): the one-time link and its
 * cookie, the guard (Host, Origin), CSRF on every form, the security headers, the pages over
 * the same operations as the CLI, the live runs feed, and no secret in any page.
 */
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { Hono } from "hono";
import { createAuthService, type AuthService } from "../../src/core/auth-service.ts";
import { createApp } from "../../src/server/app.ts";
import { createRunRegistry, type RunRegistry } from "../../src/server/run-registry.ts";
import { type Dashboard, mountDashboard } from "../../src/server/ui/index.ts";
import { createUiSessions } from "../../src/server/ui/session.ts";
import { tempHome } from "../helpers/cli.ts";

const MASTER = Buffer.alloc(32, 9).toString("base64");
const PORT = 45_678;
const HOST = `127.0.0.1:${PORT}`;
const KEY_ONE = "sk-uiroutetest-one-000000000000";
const KEY_TWO = "sk-uiroutetest-two-000000000000";
let home: Awaited<ReturnType<typeof tempHome>>;
let service: AuthService;
let app: Hono;
let dashboard: Dashboard;
let runs: RunRegistry;
let clock = Date.now();

before(async () => {
  home = await tempHome();
  // The home's fs store, so a second profile's service (as the daemon makes one per profile) sees what the first wrote.
  service = await createAuthService({ home: home.home, masterKey: MASTER });
  const others = new Map<string, Promise<AuthService>>();
  const getService = async (profile: string | undefined) => {
    if (profile === undefined) return service;
    if (!others.has(profile)) others.set(profile, createAuthService({ home: home.home, masterKey: MASTER, profile }));
    return others.get(profile)!;
  };
  app = createApp({ getService });
  runs = createRunRegistry();
  dashboard = mountDashboard(app, { getService, port: () => PORT, runs, sessions: createUiSessions({ now: () => clock }) });
});

after(async () => {
  dashboard.close();
  await service.close();
  await home.cleanup();
});

/** A browser of one session: sends the Host it would, keeps the cookie. */
async function signIn(): Promise<{ get(path: string, headers?: Record<string, string>): Promise<Response>; post(path: string, form: Record<string, string>, headers?: Record<string, string>): Promise<Response>; csrf(): Promise<string> }> {
  const link = new URL(dashboard.link());
  const res = await app.request(link.pathname, { headers: { host: HOST } });
  assert.equal(res.status, 303);
  const cookie = (res.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
  const get = async (path: string, headers: Record<string, string> = {}) => app.request(path, { headers: { host: HOST, cookie, ...headers } });
  const post = async (path: string, form: Record<string, string>, headers: Record<string, string> = {}) =>
    app.request(path, { method: "POST", body: new URLSearchParams(form).toString(), headers: { host: HOST, cookie, "content-type": "application/x-www-form-urlencoded", origin: `http://${HOST}`, ...headers } });
  const csrf = async () => /name="csrf" value="([^"]+)"/.exec(await (await get("/ui/")).text())?.[1] ?? "";
  return { get, post, csrf };
}

describe("signing in", () => {
  test("signed out: a page says how to sign in; every answer carries the strict headers", async () => {
    const res = await app.request("/ui/", { headers: { host: HOST } });
    assert.equal(res.status, 401);
    assert.match(await res.text(), /one-time link that authsome ui/);
    const csp = res.headers.get("content-security-policy") ?? "";
    for (const part of ["default-src 'none'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "form-action 'self'"]) assert.ok(csp.includes(part), part);
    assert.equal(res.headers.get("referrer-policy"), "same-origin");
    assert.equal(res.headers.get("x-frame-options"), "DENY");
    assert.equal(res.headers.get("cross-origin-resource-policy"), "same-origin");
    const js = await app.request("/ui/app.js", { headers: { host: HOST } });
    assert.equal(js.status, 200);
    assert.match(js.headers.get("content-type") ?? "", /javascript/);
  });

  test("a link works once, sets an HttpOnly SameSite=Strict cookie and redirects to a clean URL; an old one is refused", async () => {
    const link = new URL(dashboard.link());
    assert.equal(link.host, HOST);
    const first = await app.request(link.pathname, { headers: { host: HOST } });
    assert.equal(first.status, 303);
    assert.equal(first.headers.get("location"), "/ui/");
    const cookie = first.headers.get("set-cookie") ?? "";
    assert.match(cookie, new RegExp(`^authsome_ui_${PORT}=`));
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Strict/);
    assert.match(cookie, /Path=\/ui/);
    const again = await app.request(link.pathname, { headers: { host: HOST } });
    assert.equal(again.status, 403, "single use");
    const late = new URL(dashboard.link());
    clock += 121_000;
    assert.equal((await app.request(late.pathname, { headers: { host: HOST } })).status, 403, "expired after two minutes");
    const forged = await app.request("/ui/", { headers: { host: HOST, cookie: `authsome_ui_${PORT}=not-a-session` } });
    assert.equal(forged.status, 401);
  });

  test("a foreign Host (DNS rebinding) is refused before anything runs, a signed-in cookie notwithstanding", async () => {
    const browser = await signIn();
    const res = await browser.get("/ui/", { host: `rebind.attacker.example:${PORT}` });
    assert.equal(res.status, 421);
    assert.equal((await app.request(new URL(dashboard.link()).pathname, { headers: { host: `evil.example:${PORT}` } })).status, 421);
  });
});

describe("pages and forms", () => {
  test("the empty state says what to do next", async () => {
    const browser = await signIn();
    const text = await (await browser.get("/ui/")).text();
    assert.match(text, /No connections in profile default yet/);
    assert.match(text, /authsome login &lt;provider&gt;/);
    assert.match(await (await browser.get("/ui/runs")).text(), /No agents running/);
  });

  test("API-key login needs the CSRF token and a same-origin post; the key is listed, never shown", async () => {
    const browser = await signIn();
    const csrf = await browser.csrf();
    assert.ok(csrf.length > 20);
    const form = { provider: "openai", connection: "one", api_key: KEY_ONE, profile: "" };
    const noToken = await browser.post("/ui/action/login", form);
    assert.equal(noToken.status, 403);
    const foreign = await browser.post("/ui/action/login", { ...form, csrf }, { origin: "http://attacker.example" });
    assert.equal(foreign.status, 403);
    const crossSite = await browser.post("/ui/action/login", { ...form, csrf }, { origin: "", "sec-fetch-site": "cross-site" });
    assert.equal(crossSite.status, 403);
    assert.deepEqual((await service.listProviders()).providers.find((p) => p.name === "openai")?.connections, [], "nothing was stored by the refused posts");
    const saved = await browser.post("/ui/action/login", { ...form, csrf });
    assert.equal(saved.status, 303);
    const page = await (await browser.get(saved.headers.get("location") ?? "/ui/")).text();
    assert.match(page, /Saved the key for openai as connection &quot;one&quot; \(default\)/);
    assert.match(page, /<td>one <span class="badge">default<\/span><\/td>/);
    assert.ok(!page.includes(KEY_ONE), "the key is not in the page");
  });

  test("switching the default and removing with confirmation go through the same operations", async () => {
    const browser = await signIn();
    const csrf = await browser.csrf();
    await service.login("openai", { connection: "two", apiKey: KEY_TWO });
    const switched = await browser.post("/ui/action/default", { csrf, provider: "openai", connection: "two" });
    assert.equal(switched.status, 303);
    assert.equal((await service.getConnection("openai")).connection, "two");
    const confirm = await (await browser.get("/ui/confirm?provider=openai&connection=one")).text();
    assert.match(confirm, /Remove OpenAI connection “one”\?/);
    assert.match(confirm, /action="\/ui\/action\/logout"/);
    assert.match(confirm, /action="\/ui\/action\/revoke"/);
    const removed = await browser.post("/ui/action/revoke", { csrf, provider: "openai", connection: "one" });
    assert.equal(removed.status, 303);
    const page = await (await browser.get("/ui/")).text();
    assert.match(page, /connection &quot;one&quot; revoked and removed/);
    assert.deepEqual((await service.listProviders()).providers.find((p) => p.name === "openai")?.connections.map((c) => c.connection), ["two"]);
    for (const key of [KEY_ONE, KEY_TWO]) assert.ok(!page.includes(key));
  });

  test("explain box, audit page with filters and verify state, settings with profiles and plugins", async () => {
    const browser = await signIn();
    const explained = await (await browser.get(`/ui/?explain=${encodeURIComponent("https://api.openai.com/v1/models")}`)).text();
    assert.match(explained, /OpenAI connection &quot;two&quot; would be injected as header Authorization: Bearer &lt;api key&gt;/);
    const api = await app.request(`/v1/explain?url=${encodeURIComponent("https://api.openai.com/v1/models")}`);
    const answer = (await api.json()) as { provider: string; connection: string; placement: { value: string } };
    assert.deepEqual([answer.provider, answer.connection, answer.placement.value], ["openai", "two", "Bearer <api key>"], "the API gives the page's answer");
    const bad = await (await browser.get("/ui/?explain=ftp%3A%2F%2Fx")).text();
    assert.match(bad, /only http and https URLs are explained/);
    const audit = await (await browser.get("/ui/audit?action=login")).text();
    assert.match(audit, /Hash chain verified/);
    assert.match(audit, /<td>login<\/td><td>openai\/two<\/td>/);
    assert.doesNotMatch(audit, /<td>default<\/td><td>openai/, "the action filter keeps only logins");
    assert.match(await (await browser.get("/ui/audit?since=nonsense")).text(), /is not a time/);
    const csrf = await browser.csrf();
    const made = await browser.post("/ui/action/profile", { csrf, name: "agent-b", description: "second agent" });
    assert.equal(made.headers.get("location"), "/ui/settings");
    const settings = await (await browser.get("/ui/settings")).text();
    assert.match(settings, /Profile &quot;agent-b&quot; created/);
    assert.match(settings, /second agent/);
    assert.match(settings, /No plugin was refused/);
    const other = await (await browser.get("/ui/?profile=agent-b")).text();
    assert.match(other, /No connections in profile agent-b yet/, "another profile's page shows that profile");
    assert.match(other, /<option selected>agent-b<\/option>/);
    const missing = await browser.get("/ui/?profile=nobody");
    assert.equal(missing.status, 404);
    assert.match(await missing.text(), /no profile|profile &quot;nobody&quot;|nobody/);
  });

  test("a refused plugin is listed with its error, beside the installed ones", async () => {
    const { mkdir } = await import("node:fs/promises");
    await mkdir(join(home.home, "plugins"), { recursive: true });
    await writeFile(join(home.home, "plugins", "broken.json"), JSON.stringify({ name: "broken", authType: "bearer", inject: [] }));
    const browser = await signIn();
    const page = await (await browser.get("/ui/settings")).text();
    assert.match(page, /<li class="bad"><code>[^<]*broken\.json<\/code>: [^<]*authType/);
    const { rm } = await import("node:fs/promises");
    await rm(join(home.home, "plugins", "broken.json"));
  });

  test("a plugin's display name is escaped, not run", async () => {
    const file = join(home.home, "hostile.json");
    await writeFile(file, JSON.stringify({ name: "hostile", displayName: "<img src=x onerror=alert(1)>", authType: "api_key", inject: [{ host: "api.hostile.test" }] }));
    await service.installProvider(file);
    const browser = await signIn();
    const page = await (await browser.get("/ui/settings")).text();
    assert.ok(!page.includes("<img src=x"));
    assert.match(page, /&lt;img src=x onerror=alert\(1\)&gt;/);
  });
});

describe("long lists and removing a profile", () => {
  test("the main page shows a few connections per provider and links to the provider view, a page at a time", async () => {
    await service.createProfile("paged");
    const paged = await createAuthService({ home: home.home, masterKey: MASTER, profile: "paged" });
    try {
      for (let i = 0; i < 57; i += 1) await paged.login("openai", { connection: `c${String(i).padStart(2, "0")}`, apiKey: `sk-uipaging-${i}-0000000000000000` });
      await paged.setDefault("openai", "c40");
    } finally {
      await paged.close();
    }
    const browser = await signIn();
    const main = await (await browser.get("/ui/?profile=paged")).text();
    assert.match(main, /57 in profile paged/);
    const rows = [...main.matchAll(/<td>(c\d\d)(?: <span class="badge">default<\/span>)?<\/td>/g)].map((m) => m[1]);
    assert.deepEqual(rows, ["c40", "c00", "c01", "c02", "c03"], "the default first, then the next four");
    assert.match(main, /<a href="\/ui\/provider\?profile=paged&amp;provider=openai">Show all 57 OpenAI connections<\/a>/);
    const first = await (await browser.get("/ui/provider?profile=paged&provider=openai")).text();
    assert.match(first, /OpenAI connections <small>1–50 of 57<\/small>/);
    assert.equal([...first.matchAll(/<input type="radio"/g)].length, 50);
    assert.match(first, /page 1 of 2/);
    assert.match(first, /<a href="\/ui\/provider\?profile=paged&amp;provider=openai&amp;page=2" rel="next">/);
    assert.doesNotMatch(first, /rel="prev"/);
    const second = await (await browser.get("/ui/provider?profile=paged&provider=openai&page=2")).text();
    assert.match(second, /51–57 of 57/);
    assert.match(second, /rel="prev"/);
    assert.match(await (await browser.get("/ui/provider?profile=paged&provider=openai&page=99")).text(), /51–57 of 57/, "past the end: the last page");
    assert.match(await (await browser.get("/ui/provider?profile=paged&provider=openai&page=x")).text(), /1–50 of 57/, "nonsense: the first page");
    assert.match(await (await browser.get("/ui/provider?profile=paged&provider=groq")).text(), /No GroqCloud connections in profile paged|No [^<]* connections in profile paged/);
    assert.equal((await browser.get("/ui/provider?provider=no-such-provider")).status, 404);
    // Switching the default from page 2 of the provider view comes back to that page.
    const csrf = await browser.csrf();
    const switched = await browser.post("/ui/action/default", { csrf, profile: "paged", provider: "openai", connection: "c55", back: "provider", page: "2" });
    assert.equal(switched.headers.get("location"), "/ui/provider?profile=paged&provider=openai&page=2");
    const back = await (await browser.get(switched.headers.get("location") ?? "")).text();
    assert.match(back, /openai: the default connection is now &quot;c55&quot;/);
    assert.match(back, /<td>c55 <span class="badge">default<\/span><\/td>/);
    // So does removing one: the confirmation keeps the way back, and so does its answer.
    assert.match(back, /href="\/ui\/confirm\?profile=paged&amp;provider=openai&amp;connection=c50&amp;back=provider&amp;page=2"/);
    const confirm = await (await browser.get("/ui/confirm?profile=paged&provider=openai&connection=c50&back=provider&page=2")).text();
    assert.match(confirm, /<a href="\/ui\/provider\?profile=paged&amp;provider=openai&amp;page=2">Cancel, keep it<\/a>/);
    assert.match(confirm, /<input type="hidden" name="back" value="provider"><input type="hidden" name="page" value="2">/);
    const out = await browser.post("/ui/action/logout", { csrf, profile: "paged", provider: "openai", connection: "c50", back: "provider", page: "2" });
    assert.equal(out.headers.get("location"), "/ui/provider?profile=paged&provider=openai&page=2");
    assert.match(await (await browser.get(out.headers.get("location") ?? "")).text(), /logged out &quot;c50&quot;[^]*51–56 of 56/);
  });

  test("removing a profile: a confirmation, CSRF, the CLI's refusals (default, connections without force), audited", async () => {
    const browser = await signIn();
    const settings = await (await browser.get("/ui/settings")).text();
    assert.match(settings, /<td><a href="\/ui\/\?profile=default">default<\/a>[^]*?always kept/);
    assert.match(settings, /<a href="\/ui\/confirm-profile\?profile=default&amp;name=paged" aria-label="Remove profile paged…">Remove…<\/a>/);
    const confirm = await (await browser.get("/ui/confirm-profile?name=paged")).text();
    assert.match(confirm, /Remove profile “paged”\?/);
    assert.match(confirm, /It still holds <strong>56 connections<\/strong> \(OpenAI\)/);
    assert.match(confirm, /<input type="checkbox" name="force" value="1" required>/);
    assert.match(confirm, /action="\/ui\/action\/profile-remove"/);
    assert.equal((await browser.get("/ui/confirm-profile?name=nobody")).status, 404);
    const csrf = await browser.csrf();
    assert.equal((await browser.post("/ui/action/profile-remove", { name: "paged", force: "1" })).status, 403, "no CSRF token");
    assert.equal((await browser.post("/ui/action/profile-remove", { csrf, name: "paged", force: "1" }, { origin: "http://attacker.example" })).status, 403, "foreign origin");
    const unforced = await browser.post("/ui/action/profile-remove", { csrf, profile: "", back: "settings", name: "paged" });
    assert.equal(unforced.headers.get("location"), "/ui/settings");
    assert.match(await (await browser.get("/ui/settings")).text(), /profile &quot;paged&quot; still has connections \(openai\) \(add --force to remove it with its credentials\)/);
    const refused = await browser.post("/ui/action/profile-remove", { csrf, profile: "", back: "settings", name: "default", force: "1" });
    assert.equal(refused.status, 303);
    assert.match(await (await browser.get("/ui/settings")).text(), /the default profile cannot be removed/);
    const removed = await browser.post("/ui/action/profile-remove", { csrf, profile: "", name: "paged", force: "1" });
    assert.equal(removed.headers.get("location"), "/ui/settings");
    const after = await (await browser.get("/ui/settings")).text();
    assert.match(after, /Removed profile &quot;paged&quot;/);
    assert.doesNotMatch(after, /profile=paged/);
    assert.ok(!(await service.listProfiles()).some((p) => p.name === "paged"), "the CLI's listing agrees");
    const gone = await browser.get("/ui/?profile=paged");
    assert.equal(gone.status, 404, "the service kept for the removed profile shows it no more");
    const stale = await browser.post("/ui/action/login", { csrf, profile: "paged", provider: "openai", connection: "late", api_key: KEY_ONE });
    assert.equal(stale.status, 303);
    assert.match(await (await browser.get("/ui/")).text(), /no profile &quot;paged&quot; \(it was removed\)/, "a stale form writes nothing into a removed profile");
    const removals = (await service.auditEntries()).filter((e) => e.action === "profile_remove");
    assert.deepEqual(removals.map((e) => e.outcome), ["error", "error", "ok"], "every attempt audited in the server's profile, as the CLI's");
  });

  test("the dashboard's own profile is not offered for removal, and refused if posted", async () => {
    const served = await createAuthService({ home: home.home, masterKey: MASTER, profile: "agent-b" });
    const own = createApp({ getService: async (p) => (p === undefined || p === "agent-b" ? served : service) });
    const ownDashboard = mountDashboard(own, { getService: async (p) => (p === undefined || p === "agent-b" ? served : service), port: () => PORT, runs });
    try {
      const link = new URL(ownDashboard.link());
      const res = await own.request(link.pathname, { headers: { host: HOST } });
      const cookie = (res.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
      const settings = await (await own.request("/ui/settings", { headers: { host: HOST, cookie } })).text();
      assert.match(settings, /served by this dashboard/);
      const csrf = /name="csrf" value="([^"]+)"/.exec(settings)?.[1] ?? "";
      const posted = await own.request("/ui/action/profile-remove", { method: "POST", body: new URLSearchParams({ csrf, profile: "", name: "agent-b", force: "1" }).toString(), headers: { host: HOST, cookie, "content-type": "application/x-www-form-urlencoded", origin: `http://${HOST}` } });
      assert.equal(posted.status, 303);
      const page = await (await own.request("/ui/settings", { headers: { host: HOST, cookie } })).text();
      assert.match(page, /profile &quot;agent-b&quot; is the one this dashboard serves \(stop the dashboard, then: authsome profile remove agent-b\)/);
      assert.ok((await service.listProfiles()).some((p) => p.name === "agent-b"), "still there");
    } finally {
      ownDashboard.close();
      await served.close();
    }
  });
});

describe("running agents", () => {
  test("a run's events appear in the page and on the live feed", async () => {
    const browser = await signIn();
    const feed = await browser.get("/ui/events");
    assert.equal(feed.status, 200);
    assert.match(feed.headers.get("content-type") ?? "", /text\/event-stream/);
    const reader = feed.body!.pipeThrough(new TextDecoderStream()).getReader();
    const observer = runs.start("run0123456789", { pid: 4242, command: "python3", profile: "default", denyUnmatched: true });
    observer.host?.("api.openai.com", 443, true);
    observer.audit?.({ action: "inject", provider: "openai", connection: "two", host: "api.openai.com", method: "GET", status: 200, outcome: "ok" });
    observer.denied?.("blocked.example", 443);
    observer.audit?.({ action: "egress.exfiltration", provider: "openai", host: "evil.example", method: "POST", status: 403, outcome: "denied" });
    let text = "";
    const deadline = Date.now() + 5000;
    while (!text.includes('"kind":"tripped"')) {
      assert.ok(Date.now() < deadline, `the feed carried every event within 5 s: ${text}`);
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    await reader.cancel();
    for (const kind of ["started", "host", "injected", "blocked", "tripped"]) assert.match(text, new RegExp(`event: run\\ndata: \\{[^\\n]*"kind":"${kind}"`));
    const fragment = await (await browser.get("/ui/runs/fragment")).text();
    assert.match(fragment, /<td><code>python3<\/code><\/td>/);
    assert.match(fragment, /<td class="injected">1<\/td><td class="blocked">1 <small>deny mode<\/small><\/td><td class="tripped">1<\/td>/);
    assert.match(fragment, /blocked\.example blocked/);
    runs.end("run0123456789");
    assert.match(await (await browser.get("/ui/runs")).text(), /ended/);
  });
});
