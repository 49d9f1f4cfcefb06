/**
 * `authsome ui` through the installed CLI: it starts the home's daemon with the dashboard on a
 * free port, prints a one-time link (which signs in once), hosts the home's runs, and ends on
 * Ctrl-C leaving no daemon.json; with `authsome serve` already running it asks that daemon for a
 * link, opens it with $BROWSER and exits.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, readFile, writeFile } from "node:fs/promises";
import { request } from "node:http";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { cliCommand, runCli, tempHome } from "../helpers/cli.ts";
import { currentRuntime } from "../helpers/spawn-runtime.ts";

// Under a Deno test, child_process reports the child it sent SIGINT to as ended by the signal
// (code null) although the child printed its cleanup; under Node the same child exits 0. The
// output is what shows the cleanup ran.
const cleanExit = (code: number | null) => code === 0 || (currentRuntime() === "deno" && code === null);

let home: Awaited<ReturnType<typeof tempHome>>;

before(async () => {
  home = await tempHome();
});
after(() => home.cleanup());

function get(url: URL, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port: url.port, path: url.pathname, headers: { host: url.host, ...headers }, timeout: 10_000 }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("timeout", () => req.destroy(new Error("no answer within 10 s")));
    req.on("error", reject);
    req.end();
  });
}

/** Starts a long-running CLI command and waits (bounded) for `pattern` on stdout or stderr. */
async function startUntil(args: string[], pattern: RegExp): Promise<{ child: ChildProcess; out: () => string; err: () => string }> {
  const { command, args: prefix } = cliCommand();
  const child = spawn(command, [...prefix, ...args], { env: { ...process.env, ...home.env, NO_COLOR: "1", BROWSER: "false" }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${pattern} within 30 s: ${out} ${err}`)), 30_000);
    const check = () => {
      if (pattern.test(out) || pattern.test(err)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on("data", (d) => ((out += d), check()));
    child.stderr?.on("data", (d) => ((err += d), check()));
    child.on("exit", (code) => reject(new Error(`exited ${code}: ${err}`)));
  });
  return { child, out: () => out, err: () => err };
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve, reject) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    const timer = setTimeout(() => reject(new Error("did not exit within 20 s")), 20_000);
    child.on("exit", (code) => (clearTimeout(timer), resolve(code)));
  });
}

test("authsome ui: a one-time link to its own daemon, runs hosted by it, Ctrl-C ends it cleanly", async () => {
  const ui = await startUntil(["ui", "--no-browser", "--json"], /"url": "http:\/\/127\.0\.0\.1:\d+\/ui\/login\/[\w-]+"/);
  try {
    const link = new URL(/"url": "([^"]+)"/.exec(ui.out())?.[1] ?? "");
    const daemon = JSON.parse(await readFile(join(home.home, "daemon.json"), "utf8")) as { port: number };
    assert.equal(daemon.port, Number(link.port), "runs of this home find it as the daemon");
    const signIn = await get(link);
    assert.equal(signIn.status, 303);
    const cookie = String((signIn.headers["set-cookie"] as string[] | undefined)?.[0] ?? "").split(";")[0] ?? "";
    const page = await get(new URL("/ui/", link), { cookie });
    assert.equal(page.status, 200);
    assert.match(page.body, /<h1>Connections/);
    assert.equal((await get(link)).status, 403, "the link works once");
    const run = await runCli(["run", "--", "sh", "-c", "exit 0"], { env: home.env });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /hosted by the daemon/);
    const runs = await get(new URL("/ui/runs/fragment", link), { cookie });
    assert.match(runs.body, /<td><code>sh<\/code><\/td>/, "the run was listed by the dashboard");
  } finally {
    ui.child.kill("SIGINT");
  }
  assert.ok(cleanExit(await exited(ui.child)), ui.err());
  assert.match(ui.err(), /Open the link above in a browser on this machine/);
  assert.match(ui.err(), /dashboard stopped/);
  assert.equal(existsSync(join(home.home, "daemon.json")), false);
});

test("with authsome serve running, authsome ui opens a link from that daemon and exits", async () => {
  const serve = await startUntil(["serve", "--port", "0"], /dashboard: http:\/\/127\.0\.0\.1:\d+\/ui\/login\//);
  try {
    const served = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(serve.err())?.[1] ?? "";
    const opened = join(home.home, "opened.txt");
    const browser = join(home.home, "browser.sh");
    await writeFile(browser, `#!/bin/sh\nprintf '%s' "$1" > '${opened}'\n`);
    await chmod(browser, 0o755);
    const ui = await runCli(["ui", "--json"], { env: { ...home.env, BROWSER: browser, DISPLAY: ":0" } });
    assert.equal(ui.code, 0, ui.stderr);
    assert.match(ui.stderr, /The home's daemon at http:\/\/127\.0\.0\.1:\d+ serves the dashboard/);
    const url = (JSON.parse(ui.stdout) as { url: string }).url;
    assert.ok(url.startsWith(`${served}/ui/login/`), url);
    const deadline = Date.now() + 10_000;
    while (!existsSync(opened)) {
      assert.ok(Date.now() < deadline, "$BROWSER was started with the link within 10 s");
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    assert.equal(await readFile(opened, "utf8"), url);
    assert.equal((await get(new URL(url))).status, 303, "the daemon's link signs in");
  } finally {
    serve.child.kill("SIGINT");
  }
  assert.ok(cleanExit(await exited(serve.child)), serve.err());
  assert.match(serve.err(), /daemon stopped/);
});
