/**
 * A one-time local web form for pasting a secret: a fresh Hono app on 127.0.0.1 and a random
 * port per login, reachable only under a random path token, closed after a valid submit or the
 * timeout. Answers every other path with 404 and keeps waiting.
 */
import { Hono } from "hono";
import { html } from "hono/html";
import { AuthsomeError } from "../core/errors.ts";
import { randomToken } from "../core/crypto.ts";
import type { ProviderPlugin } from "../core/plugin.ts";
import type { LoginInteraction } from "../flows/types.ts";
import { serveFetch } from "../runtime/index.ts";

/** Options for {@link collectSecretWithForm}. */
export interface SecretFormOptions {
  plugin: ProviderPlugin;
  connection: string;
  interaction: LoginInteraction;
  timeoutMs: number;
  /** Returns a message when the value is refused (shown on the form), or null. */
  validate(value: string): string | null;
  /** Label of the field; default "API key". */
  label?: string;
  /** An empty value may be submitted (a public OAuth client has no secret). */
  optional?: boolean;
}

function page(options: SecretFormOptions, error?: string) {
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
<form method="post"><label>${label}<br><input type="password" name="secret" autocomplete="off" autofocus${options.optional ? "" : " required"}></label>
<button type="submit">Save</button></form>
${options.optional ? html`<p class="muted">Leave it empty if the app has no ${label} (a public client).</p>` : ""}
${options.plugin.apiKey?.hint === undefined ? "" : html`<p class="muted">${options.plugin.apiKey.hint}</p>`}
</body></html>`;
}

const DONE = html`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>authsome</title></head>
<body style="font:16px system-ui,sans-serif;max-width:34rem;margin:3rem auto"><h1>Saved</h1>
<p>authsome has the key. You can close this tab.</p></body></html>`;

/** Serves the form, waits for a valid submit, and returns the value. */
export async function collectSecretWithForm(options: SecretFormOptions): Promise<string> {
  const token = randomToken(24);
  let settle!: { resolve(value: string): void; reject(error: unknown): void };
  const result = new Promise<string>((resolve, reject) => (settle = { resolve, reject }));
  const app = new Hono();
  app.get(`/form/${token}`, (c) => c.html(page(options)));
  app.post(`/form/${token}`, async (c) => {
    const body = await c.req.parseBody();
    const value = typeof body["secret"] === "string" ? body["secret"].trim() : "";
    const problem = options.validate(value);
    if (problem !== null) return c.html(page(options, problem), 422);
    settle.resolve(value);
    return c.html(DONE);
  });
  app.notFound((c) => c.text("not found", 404));

  const listener = await serveFetch(app.fetch, { hostname: "127.0.0.1", port: 0 });
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
