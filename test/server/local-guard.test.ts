/**
 * What a real `authsome serve` refuses before any route runs (issue 11): a Host other than its
 * loopback address and port (DNS rebinding), state-changing requests that are not
 * application/json (text/plain and form bodies are "simple" cross-site requests a page may send
 * without a preflight), and a foreign Origin or Sec-Fetch-Site. Raw node:http requests, so the
 * Host header is ours to choose, against the daemon of the installed CLI.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { request } from "node:http";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { cliCommand, runCli, tempHome } from "../helpers/cli.ts";

const KEY = "sk-guardtest0000000000000000";
let home: Awaited<ReturnType<typeof tempHome>>;
let daemon: ChildProcess;
let port: number;
let token: string;

interface Answer {
  status: number;
  body: { error?: string; [key: string]: unknown };
}

/** One request to the daemon's port with exactly these headers (Host included). */
function send(method: string, path: string, headers: Record<string, string>, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, method, path, headers: { host: `127.0.0.1:${port}`, authorization: `Bearer ${token}`, ...headers }, timeout: 10_000 }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (text += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text === "" ? {} : (JSON.parse(text) as Answer["body"]) }));
    });
    req.on("timeout", () => req.destroy(new Error("the daemon did not answer within 10 s")));
    req.on("error", reject);
    req.end(body);
  });
}

async function profileNames(): Promise<string[]> {
  const answer = await send("GET", "/v1/profiles", {});
  assert.equal(answer.status, 200);
  return (answer.body["profiles"] as { name: string }[]).map((p) => p.name);
}

before(async () => {
  home = await tempHome();
  const login = await runCli(["login", "openai"], { env: home.env, input: KEY });
  assert.equal(login.code, 0, login.stderr);
  const { command, args } = cliCommand();
  daemon = spawn(command, [...args, "serve", "--port", "0"], { env: { ...process.env, ...home.env, NO_COLOR: "1" }, stdio: ["ignore", "ignore", "pipe"] });
  let err = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the daemon did not start within 20 s: ${err}`)), 20_000);
    daemon.stderr?.on("data", (d) => {
      err += d;
      if (err.includes("listening on")) {
        clearTimeout(timer);
        resolve();
      }
    });
    daemon.on("close", (code) => reject(new Error(`the daemon exited ${code}: ${err}`)));
  });
  port = (JSON.parse(await readFile(join(home.home, "daemon.json"), "utf8")) as { port: number }).port;
  token = (await readFile(join(home.home, "daemon.token"), "utf8")).trim();
});

after(async () => {
  const closed = new Promise((resolve) => daemon.once("close", resolve));
  daemon.kill("SIGTERM");
  await closed;
  await home.cleanup();
});

test("a DNS-rebinding Host is refused with 421 even with the right token; loopback names answer", async () => {
  for (const host of ["evil.example", `evil.example:${port}`, "127.0.0.1", `127.0.0.1:${port + 1}`, `localhost.evil.example:${port}`]) {
    for (const path of ["/v1/providers/openai/token", "/v1/health"]) {
      const answer = await send("GET", path, { host });
      assert.equal(answer.status, 421, `${host} ${path}`);
      assert.equal(answer.body.error, "host_refused");
      assert.ok(!JSON.stringify(answer.body).includes(KEY), "no data in the refusal");
    }
  }
  for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, `LOCALHOST:${port}`]) {
    const answer = await send("GET", "/v1/providers/openai/token", { host });
    assert.equal(answer.status, 200, host);
    assert.deepEqual(answer.body, { token: KEY });
  }
});

test("a state-changing request that is not application/json is refused with 415 and changes nothing", async () => {
  const json = JSON.stringify({ name: "bot" });
  for (const type of ["text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/jsonp"]) {
    const answer = await send("POST", "/v1/profiles", { "content-type": type }, json);
    assert.equal(answer.status, 415, type);
    assert.equal(answer.body.error, "content_type_refused");
  }
  const untyped = await send("POST", "/v1/profiles", {}, json);
  assert.equal(untyped.status, 415, "no Content-Type at all");
  const removal = await send("DELETE", "/v1/profiles/default", { "content-type": "text/plain" });
  assert.equal(removal.status, 415, "DELETE too");
  assert.deepEqual(await profileNames(), ["default"], "no profile was created");
  const created = await send("POST", "/v1/profiles", { "content-type": "application/json; charset=utf-8" }, json);
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.deepEqual((await profileNames()).sort(), ["bot", "default"]);
});

test("a foreign Origin or a cross-site fetch is refused with 403; the daemon's own origin is not", async () => {
  const json = { "content-type": "application/json" };
  const foreign: Record<string, string>[] = [{ origin: "https://evil.example" }, { origin: "null" }, { origin: `http://localhost:${port + 1}` }, { "sec-fetch-site": "cross-site" }, { "sec-fetch-site": "same-site" }];
  for (const headers of foreign) {
    const answer = await send("POST", "/v1/profiles", { ...json, ...headers }, JSON.stringify({ name: "evil" }));
    assert.equal(answer.status, 403, JSON.stringify(headers));
    assert.equal(answer.body.error, "origin_refused");
  }
  assert.ok(!(await profileNames()).includes("evil"), "no profile was created");
  const same = await send("POST", "/v1/profiles", { ...json, origin: `http://127.0.0.1:${port}`, "sec-fetch-site": "same-origin" }, JSON.stringify({ name: "same" }));
  assert.equal(same.status, 201, JSON.stringify(same.body));
  const unauthenticated = await send("POST", "/v1/profiles", { ...json, authorization: "" }, JSON.stringify({ name: "anon" }));
  assert.equal(unauthenticated.status, 401, "the guard adds to the token check, it does not replace it");
});
