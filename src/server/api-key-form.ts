/**
 * A one-time local web form for pasting a secret: a fresh Hono app on 127.0.0.1 and a random
 * port per login, reachable only under a random path token, closed after a valid submit or the
 * timeout. Answers every other path with 404 and keeps waiting.
 *
 * A post is accepted only when it comes from the form itself: Host names this listener, Origin
 * (when sent) is the form's origin, Sec-Fetch-Site is not cross-site or same-site, and the hidden
 * CSRF token of this form instance matches (constant time). A refused post gets a short page
 * saying why, and the login keeps waiting: a foreign page must not be able to end the user's
 * login, and the user can still submit the real form.
 */
import { Hono } from "hono";
import { html } from "hono/html";
import { AuthsomeError } from "../core/errors.ts";
import { constantTimeEqual, randomToken } from "../core/crypto.ts";
import type { SecretFormOptions } from "../core/flow-registry.ts";
import { serveFetch } from "../runtime/index.ts";
import { foreignOriginReason, isLoopbackHost } from "./guard.ts";

function page(options: SecretFormOptions, csrf: string, error?: string) {
  const name = options.plugin.displayName ?? options.plugin.name;
  const label = options.label ?? "API key";
  const keyUrl = options.plugin.apiKey?.keyUrl;
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>authsome: ${name}</title>
<meta name="viewport" content="width=device-width,initial-scale=1">
<style>body{font:16px system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem}
input{width:100%;padding:.5rem;font:inherit}button{margin-top:1rem;padding:.5rem 1rem;font:inherit}
.err{color:#b00020}.muted{color:#555}</style></head>
<body><h1>${name}</h1>
<p>Paste your ${label} for the connection <b>${options.connection}</b>. It is stored encrypted on this machine and never shown to your agents.</p>
${keyUrl === undefined ? "" : html`<p class="muted">Create one at <a href="${keyUrl}" rel="noreferrer">${keyUrl}</a></p>`}
${error === undefined ? "" : html`<p class="err" role="alert">${error}</p>`}
<form method="post"><input type="hidden" name="csrf" value="${csrf}"><label>${label}<br><input type="password" name="secret" autocomplete="off" autofocus${options.optional ? "" : " required"}></label>
<button type="submit">Save</button></form>
${options.optional ? html`<p class="muted">Leave it empty if the app has no ${label} (a public client).</p>` : ""}
${options.plugin.apiKey?.hint === undefined ? "" : html`<p class="muted">${options.plugin.apiKey.hint}</p>`}
</body></html>`;
}

const DONE = html`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>authsome</title></head>
<body style="font:16px system-ui,sans-serif;max-width:34rem;margin:3rem auto"><h1>Saved</h1>
<p>authsome has the key. You can close this tab.</p></body></html>`;

function refused(reason: string) {
  return html`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>authsome: refused</title></head>
<body style="font:16px system-ui,sans-serif;max-width:34rem;margin:3rem auto"><h1>Refused</h1>
<p>${reason}. Nothing was saved; the login is still waiting for the form authsome opened.</p></body></html>`;
}

/** Why a post to the form is not the form's own submit, or null when it is. */
function _refusal(request: { header(name: string): string | undefined }, port: number, csrf: string, sent: unknown): string | null {
  const host = request.header("host");
  if (!isLoopbackHost(host, port)) return "This form only answers at the address authsome printed";
  const foreign = foreignOriginReason({ origin: request.header("origin"), fetchSite: request.header("sec-fetch-site"), host: host ?? "" });
  if (foreign !== null) return `This was ${foreign}, not the form authsome opened`;
  if (typeof sent !== "string" || !constantTimeEqual(sent, csrf)) return "The form's token is missing or wrong: reload the form from the address authsome printed";
  return null;
}

/** The form's app: the page and its submit under `/form/<token>`, 404 elsewhere. */
function _formApp(options: SecretFormOptions, token: string, port: () => number, onValue: (value: string) => void): Hono {
  // Bound to this one-time URL: a fresh value per form, never valid on another form's URL.
  const csrf = randomToken(24);
  const app = new Hono();
  app.get(`/form/${token}`, (c) => (isLoopbackHost(c.req.header("host"), port()) ? c.html(page(options, csrf)) : c.text("misdirected request", 421)));
  app.post(`/form/${token}`, async (c) => {
    const body = await c.req.parseBody();
    const reason = _refusal(c.req, port(), csrf, body["csrf"]);
    if (reason !== null) return c.html(refused(reason), 403);
    const value = typeof body["secret"] === "string" ? body["secret"].trim() : "";
    const problem = options.validate(value);
    if (problem !== null) return c.html(page(options, csrf, problem), 422);
    onValue(value);
    return c.html(DONE);
  });
  app.notFound((c) => c.text("not found", 404));
  return app;
}

/** Serves the form, waits for a valid submit, and returns the value. */
export async function collectSecretWithForm(options: SecretFormOptions): Promise<string> {
  const token = randomToken(24);
  let settle!: { resolve(value: string): void; reject(error: unknown): void };
  const result = new Promise<string>((resolve, reject) => (settle = { resolve, reject }));
  let port = 0;
  const app = _formApp(options, token, () => port, (value) => settle.resolve(value));
  const listener = await serveFetch(app.fetch, { hostname: "127.0.0.1", port: 0 });
  port = listener.port;
  const url = `http://127.0.0.1:${listener.port}/form/${token}`;
  const timer = setTimeout(() => {
    settle.reject(new AuthsomeError("auth_cancelled", `no key was submitted within ${Math.round(options.timeoutMs / 1000)} s`, {
      hint: "run the login again, or pipe the key on stdin",
    }));
  }, options.timeoutMs);
  const onAbort = () => settle.reject(new AuthsomeError("auth_cancelled", "login cancelled"));
  options.interaction.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    options.interaction.notify(`Paste the ${options.label ?? "API key"} into a one-time form on this machine:`);
    await options.interaction.openUrl(url);
    options.interaction.notify("Waiting for the form (Ctrl-C to cancel)...");
    return await result;
  } finally {
    clearTimeout(timer);
    options.interaction.signal?.removeEventListener("abort", onAbort);
    await listener.close();
  }
}
