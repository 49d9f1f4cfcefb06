/**
 * An OAuth login started from the dashboard, with live progress: the page's POST starts the
 * same `login` operation the CLI runs (device flow against a real authorization server), the
 * device code and its link arrive as server-sent steps, a scripted browser approves it on the
 * server's own pages, and the stream ends with "logged in" while no token ever reaches the page.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { Hono } from "hono";
// The composition root the CLI and the daemon load: flows registered into core.
import "../../src/register.ts";
import { createAuthService, type AuthService } from "../../src/core/auth-service.ts";
import { createApp } from "../../src/server/app.ts";
import { createRunRegistry } from "../../src/server/run-registry.ts";
import { type Dashboard, mountDashboard } from "../../src/server/ui/index.ts";
import { tempHome } from "../helpers/cli.ts";
import { startOidcServer, type TestOidcServer, writeTestPlugin } from "../helpers/oidc-server.ts";
import { TEST_CLIENTS } from "../helpers/oidc-provider-app.ts";
import { repoRoot } from "../helpers/spawn-runtime.ts";

const PORT = 45_679;
const HOST = `127.0.0.1:${PORT}`;
let server: TestOidcServer;
let home: Awaited<ReturnType<typeof tempHome>>;
let service: AuthService;
let app: Hono;
let dashboard: Dashboard;

before(async () => {
  server = await startOidcServer();
  home = await tempHome();
  service = await createAuthService({ home: home.home, storage: "memory", masterKey: Buffer.alloc(32, 5).toString("base64") });
  await service.installProvider(await writeTestPlugin(home.home, server.issuer, "oidc", { flows: ["pkce", "device_code"] }));
  app = createApp({ getService: async () => service });
  dashboard = mountDashboard(app, { getService: async () => service, port: () => PORT, runs: createRunRegistry() });
});

after(async () => {
  dashboard.close();
  await service.close();
  await server.close();
  await home.cleanup();
});

/** Reads server-sent events until `stop` says so (bounded). */
async function readEvents(response: Response, stop: (events: { event: string; data: Record<string, unknown> }[]) => boolean, ms = 30_000): Promise<{ event: string; data: Record<string, unknown> }[]> {
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  const events: { event: string; data: Record<string, unknown> }[] = [];
  let buffer = "";
  const deadline = Date.now() + ms;
  try {
    while (!stop(events)) {
      assert.ok(Date.now() < deadline, `no end within ${ms} ms: ${JSON.stringify(events)}`);
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let cut: number;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const event = /^event: (.+)$/m.exec(block)?.[1];
        const data = /^data: (.+)$/m.exec(block)?.[1];
        if (event !== undefined && data !== undefined) events.push({ event, data: JSON.parse(data) as Record<string, unknown> });
      }
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  return events;
}

test("device-code login from the page: the code is shown live, approval ends it, the connection is listed", async () => {
  const link = new URL(dashboard.link());
  const signIn = await app.request(link.pathname, { headers: { host: HOST } });
  const cookie = (signIn.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
  const headers = { host: HOST, cookie };
  const csrf = /name="csrf" value="([^"]+)"/.exec(await (await app.request("/ui/", { headers })).text())?.[1] ?? "";
  const form = new URLSearchParams({ csrf, provider: "oidc", connection: "device", flow: "device_code", client_id: TEST_CLIENTS.public });
  const started = await app.request("/ui/action/oauth", { method: "POST", body: form.toString(), headers: { ...headers, origin: `http://${HOST}`, "content-type": "application/x-www-form-urlencoded" } });
  assert.equal(started.status, 303);
  const progress = started.headers.get("location") ?? "";
  assert.match(progress, /^\/ui\/logins\/[\w-]+$/);
  const feed = await app.request(`${progress}/events?from=0`, { headers });
  let approver: ReturnType<typeof spawn> | undefined;
  const log = join(home.home, "approve.log");
  const events = await readEvents(feed, (seen) => {
    const withCode = seen.find((e) => e.event === "step" && typeof e.data["url"] === "string" && String(e.data["url"]).includes("user_code"));
    if (withCode !== undefined && approver === undefined) {
      // The user opens the link the page shows and approves on the server's pages.
      approver = spawn("node", [join(repoRoot, "test/fixtures/oauth-browser.mjs"), String(withCode.data["url"])], { env: { ...process.env, OAUTH_LOG: log, OAUTH_MODE: "approve" }, stdio: "ignore" });
    }
    return seen.some((e) => e.event === "done");
  });
  const steps = events.filter((e) => e.event === "step").map((e) => String(e.data["text"]));
  assert.ok(steps.some((s) => /open http:\/\/127\.0\.0\.1:\d+\/device\nand enter the code: [A-Z]{4}-[A-Z]{4}/.test(s)), `the device code was shown: ${JSON.stringify(steps)}`);
  assert.deepEqual(events.at(-1), { event: "done", data: { ok: true, text: 'Logged in to oidc as connection "device" (default).' } });
  const page = await (await app.request(progress, { headers })).text();
  assert.match(page, /Logged in to oidc as connection &quot;device&quot;/);
  const token = await service.getAccessToken("oidc", { connection: "device" });
  assert.ok(!page.includes(token) && !JSON.stringify(events).includes(token), "the token never reaches the page");
  const listed = await (await app.request("/ui/", { headers })).text();
  assert.match(listed, /<td>device <span class="badge">default<\/span><\/td>/);
  assert.match(listed, /<time datetime="[^"]+Z">[^<]+<\/time> <small data-expires="[^"]+"><\/small>/, "the expiry is a time the page counts down to");
  assert.match(listed, /<td>openid api:read<\/td>|<td>api:read openid<\/td>/, "the granted scopes are listed");
});
