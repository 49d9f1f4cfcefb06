/**
 * The one-time secret form (API keys and OAuth client secrets) over real HTTP: posts that are
 * not the form's own submit (another Host, a cross-site or same-site fetch, another origin, no or
 * a wrong CSRF token, the token of another form) get a 403 page saying why, store nothing and
 * leave the login waiting; the form's own submit then ends it with the value.
 */
import assert from "node:assert/strict";
import { request } from "node:http";
import { test } from "node:test";
import type { ProviderPlugin } from "../../src/core/plugin.ts";
import { collectSecretWithForm } from "../../src/server/api-key-form.ts";

const PLUGIN = { name: "acme", displayName: "Acme" } as unknown as ProviderPlugin;

/** One raw request (node:http, so Host is ours to set). */
function send(url: URL, method: string, headers: Record<string, string>, body?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, method, path: url.pathname, headers: { host: url.host, ...headers }, timeout: 10_000 }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (text += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on("timeout", () => req.destroy(new Error("the form did not answer within 10 s")));
    req.on("error", reject);
    req.end(body);
  });
}

/** Opens a form; `drive` plays the browser (and the attacker) against its URL. */
function openForm(drive: (url: URL) => Promise<void>): Promise<string> {
  return collectSecretWithForm({
    plugin: PLUGIN,
    connection: "default",
    timeoutMs: 30_000,
    validate: (value) => (value.startsWith("acme-") ? null : "does not look like an Acme key"),
    interaction: { notify: () => {}, readPipedSecret: async () => undefined, openUrl: (url) => drive(new URL(url)) },
  });
}

const form = "application/x-www-form-urlencoded";
const csrfOf = (page: string) => /name="csrf" value="([^"]+)"/.exec(page)?.[1] ?? "";

test("foreign posts to the form are refused, store nothing, and the login keeps waiting", async () => {
  const seen: string[] = [];
  let otherCsrf = "";
  // Another form's token must not work on this one (each is bound to its own URL).
  const first = await openForm(async (url) => {
    otherCsrf = csrfOf((await send(url, "GET", {})).text);
    await send(url, "POST", { "content-type": form }, new URLSearchParams({ csrf: otherCsrf, secret: "acme-first" }).toString());
  });
  assert.equal(first, "acme-first");
  const value = await openForm(async (url) => {
    const page = await send(url, "GET", {});
    const csrf = csrfOf(page.text);
    assert.ok(csrf.length >= 20 && csrf !== otherCsrf, "a fresh CSRF token per form");
    assert.equal((await send(url, "GET", { host: `evil.example:${url.port}` })).status, 421, "a rebinding page cannot read the form");
    const attempts: [string, Record<string, string>, string][] = [
      ["rebinding Host", { host: `evil.example:${url.port}` }, csrf],
      ["cross-origin", { origin: "https://evil.example" }, csrf],
      ["null origin", { origin: "null" }, csrf],
      ["cross-site fetch", { "sec-fetch-site": "cross-site" }, csrf],
      ["same-site fetch", { "sec-fetch-site": "same-site" }, csrf],
      ["no token", { origin: url.origin }, ""],
      ["wrong token", { origin: url.origin }, `${csrf.slice(0, -1)}${csrf.endsWith("x") ? "y" : "x"}`],
      ["another form's token", { origin: url.origin }, otherCsrf],
    ];
    for (const [what, headers, token] of attempts) {
      const body = new URLSearchParams({ ...(token === "" ? {} : { csrf: token }), secret: "acme-foreign" }).toString();
      const answer = await send(url, "POST", { "content-type": form, ...headers }, body);
      assert.equal(answer.status, 403, what);
      assert.match(answer.text, /Nothing was saved; the login is still waiting/, what);
      seen.push(what);
    }
    const good = await send(url, "POST", { "content-type": form, origin: url.origin, "sec-fetch-site": "same-origin" }, new URLSearchParams({ csrf, secret: "acme-real" }).toString());
    assert.equal(good.status, 200);
    assert.match(good.text, /Saved/);
  });
  assert.equal(value, "acme-real", "only the form's own submit is taken");
  assert.equal(seen.length, 8);
});
