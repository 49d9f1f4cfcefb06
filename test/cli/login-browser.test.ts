/**
 * Logins where no browser can be opened (no BROWSER, no display, or SSH) and with
 * --no-browser: the URL is on stderr before the login starts waiting, the wording says what
 * happens, and the wait ends with the timeout (exit 2). Also the client-id explanation.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { cliCommand, tempHome } from "../helpers/cli.ts";
import { freePort } from "../helpers/oidc-server.ts";
import { noBrowserEnv } from "../helpers/pty.ts";
import { repoRoot } from "../helpers/spawn-runtime.ts";

let home: Awaited<ReturnType<typeof tempHome>>;
before(async () => (home = await tempHome()));
after(() => home.cleanup());

/** Runs the CLI with stdin closed at once, noting when the authorization URL first showed. */
function loginTimed(args: string[], env: Record<string, string | undefined>): Promise<{ code: number; stderr: string; urlAt: number; endAt: number }> {
  const { command, args: prefix } = cliCommand();
  const childEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...env, NO_COLOR: "1" })) if (v !== undefined) childEnv[k] = v;
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, [...prefix, ...args], { cwd: repoRoot, env: childEnv, stdio: ["pipe", "ignore", "pipe"] });
    let stderr = "";
    let urlAt = -1;
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString("utf8");
      if (urlAt < 0 && /\n  https:\/\/github\.com\/login\/oauth\/authorize\?\S*client_id=Iv1\.test/.test(stderr)) urlAt = Date.now() - started;
    });
    const killer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("error", reject);
    child.on("close", (code) => (clearTimeout(killer), resolve({ code: code ?? -1, stderr, urlAt, endAt: Date.now() - started })));
    child.stdin.end("");
  });
}

test("no browser at hand: the URL is printed at once, the reason and --flow device_code are named, --timeout 2 ends it", async () => {
  const port = await freePort();
  const r = await loginTimed(["login", "github", "--client-id", "Iv1.test", "--timeout", "2", "--redirect-port", String(port)], noBrowserEnv(home.env));
  assert.equal(r.code, 2, r.stderr);
  assert.ok(r.urlAt >= 0, `the URL was printed:\n${r.stderr}`);
  assert.ok(r.urlAt < r.endAt - 1500, `the URL came before the wait (at ${r.urlAt} ms, the login ended at ${r.endAt} ms)`);
  assert.match(r.stderr, process.platform === "linux" ? /A browser cannot be opened here: there is no display/ : /A browser cannot be opened here: this is an SSH session/);
  assert.match(r.stderr, /`authsome login github --flow device_code`/);
  assert.match(r.stderr, new RegExp(`ssh -L ${port}:127\\.0\\.0\\.1:${port}`));
  assert.match(r.stderr, /error: no answer from the browser within 2 s/);
  assert.doesNotMatch(r.stderr, /Opening/);
});

test("over SSH a browser is not tried even with a display", async () => {
  const r = await loginTimed(["login", "github", "--client-id", "Iv1.test", "--timeout", "2", "--redirect-port", String(await freePort())], noBrowserEnv({ ...home.env, DISPLAY: ":0", SSH_CONNECTION: "192.0.2.1 50000 192.0.2.2 22" }));
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /A browser cannot be opened here: this is an SSH session\. Open this URL in a browser:\n  https:\/\/github\.com\/login\/oauth\/authorize\?/);
});

test("--no-browser says it does not open one, prints the URL, and never runs $BROWSER", async () => {
  const marker = join(home.home, "browser-ran");
  const r = await loginTimed(["login", "github", "--client-id", "Iv1.test", "--no-browser", "--timeout", "2", "--redirect-port", String(await freePort())], { ...process.env, ...home.env, BROWSER: `touch ${marker}` });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /Not opening a browser \(--no-browser\); open this URL:\n  https:\/\/github\.com\/login\/oauth\/authorize\?/);
  assert.ok(r.urlAt >= 0 && r.urlAt < r.endAt - 1500, "the URL came before the wait");
  assert.equal(existsSync(marker), false, "$BROWSER was not run");
});

test("no client id, not at a terminal: exit 2 with the docs URL, the exact redirect URI and which flows need a secret", async () => {
  const r = await loginTimed(["login", "github"], { ...noBrowserEnv(home.env), AUTHSOME_REDIRECT_PORT: "8123" });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /error: GitHub needs an OAuth client id: register an app and pass its id with --client-id/);
  assert.match(r.stderr, /Register one: https:\/\/docs\.github\.com\/en\/apps\/oauth-apps\//);
  assert.match(r.stderr, /Redirect URI \(callback URL\) to enter: http:\/\/127\.0\.0\.1:8123\/callback\n/);
  assert.match(r.stderr, /--flow pkce: .*a client secret only if the app has one/);
  assert.match(r.stderr, /--flow device_code: for SSH/);
  assert.match(r.stderr, /authsome login github --client-id <ID>/);
});
