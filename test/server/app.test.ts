/**
 * The `/v1` API through Hono's `app.request()` (what `authsome serve` exposes), the in-process
 * dispatch the CLI uses giving the same answers, and the daemon's bearer-token guard over real HTTP.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { test } from "node:test";
import { createAuthService } from "../../src/core/auth-service.ts";
import { createApp } from "../../src/server/app.ts";
import { callOperation, operations } from "../../src/server/routes.ts";
import { cliCommand, tempHome } from "../helpers/cli.ts";

const MASTER = Buffer.alloc(32, 3).toString("base64");

test("login, get and errors through app.request()", async () => {
  const h = await tempHome();
  try {
    const service = await createAuthService({ home: h.home, storage: "memory", masterKey: MASTER });
    const app = createApp({ getService: async () => service });
    let res = await app.request("/v1/providers/openai/login", { method: "POST", body: JSON.stringify({ api_key: "sk-apitest0000000000000000", connection: "ci" }) });
    assert.equal(res.status, 201);
    res = await app.request("/v1/providers/openai/connection?connection=ci");
    const view = (await res.json()) as { secrets: { api_key: string }; is_default: boolean };
    assert.equal(view.secrets.api_key, "<redacted>");
    assert.equal(view.is_default, true);
    res = await app.request("/v1/providers/openai/token?connection=ci");
    assert.deepEqual(await res.json(), { token: "sk-apitest0000000000000000" });
    res = await app.request("/v1/providers/nope/connection");
    assert.equal(res.status, 404);
    assert.equal(((await res.json()) as { error: string }).error, "provider_not_found");
    res = await app.request("/v1/providers/openai/login", { method: "POST", body: JSON.stringify({ api_key: 42 }) });
    assert.equal(res.status, 400);
    assert.match(((await res.json()) as { message: string }).message, /field "api_key"/);
    res = await app.request("/v1/providers/openai/login", { method: "POST", body: "{not json" });
    assert.equal(res.status, 400);
    res = await app.request("/v1/providers/openai/login", { method: "POST", body: JSON.stringify({ connection: "ci", api_key: "sk-apitest0000000000000000" }) });
    assert.equal(res.status, 409);
    assert.equal(((await res.json()) as { error: string }).error, "connection_exists");
    await service.close();
  } finally {
    await h.cleanup();
  }
});

test("the app serves every operation of the typed table at its method and path", async () => {
  const h = await tempHome();
  try {
    const service = await createAuthService({ home: h.home, storage: "memory", masterKey: MASTER });
    const app = createApp({ getService: async () => service });
    for (const [name, operation] of Object.entries(operations)) {
      const concrete = operation.path.replaceAll(/:([a-z]+)/g, "nope");
      const res = await app.request(concrete, { method: operation.method, ...(operation.method === "POST" ? { body: "{}" } : {}) });
      const body = (await res.json()) as { message?: string };
      assert.ok(!(body.message ?? "").startsWith("no route"), `${name}: ${operation.method} ${operation.path} is served`);
    }
    const res = await app.request("/v1/nothing");
    assert.equal(res.status, 404);
    assert.match(((await res.json()) as { message: string }).message, /^no route/);
    const inProcess = await callOperation("getConnection", { provider: "nope" }, { service }).catch((error: { code?: string }) => error.code);
    assert.equal(inProcess, "provider_not_found", "the CLI's in-process call answers like HTTP");
    await service.close();
  } finally {
    await h.cleanup();
  }
});

test("the daemon answers only with its bearer token", async () => {
  const h = await tempHome();
  // `authsome serve` in its own process, its home and key in its own environment: an in-process
  // daemon reads them from process.env, which Deno shares between the test files it runs in
  // parallel (a home another file created while AUTHSOME_MASTER_KEY was set here got this key).
  const { command, args } = cliCommand();
  const daemon = spawn(command, [...args, "serve", "--port", "0"], { env: { ...process.env, ...h.env, AUTHSOME_MASTER_KEY: MASTER, NO_COLOR: "1" }, stdio: ["ignore", "ignore", "pipe"] });
  const closed = new Promise((resolve) => daemon.once("close", resolve));
  try {
    let err = "";
    await new Promise<void>((resolve, reject) => {
      daemon.stderr?.on("data", (d: Buffer) => {
        err += d.toString();
        if (err.includes("listening on")) resolve();
      });
      daemon.once("close", (code) => reject(new Error(`the daemon exited ${code}: ${err}`)));
    });
    const { readFile } = await import("node:fs/promises");
    const token = (await readFile(`${h.home}/daemon.token`, "utf8")).trim();
    const info = JSON.parse(await readFile(`${h.home}/daemon.json`, "utf8")) as { url: string };
    assert.ok(err.includes(`listening on ${info.url} `), err);
    let res = await fetch(`${info.url}/v1/health`);
    assert.equal(res.status, 200);
    await res.body?.cancel();
    res = await fetch(`${info.url}/v1/whoami`);
    assert.equal(res.status, 401);
    await res.body?.cancel();
    res = await fetch(`${info.url}/v1/providers/openai/token`, { headers: { authorization: "Bearer wrong" } });
    assert.equal(res.status, 401);
    await res.body?.cancel();
    res = await fetch(`${info.url}/v1/whoami`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { home: string }).home, h.home);
  } finally {
    daemon.kill("SIGTERM");
    await closed;
    await h.cleanup();
  }
});
