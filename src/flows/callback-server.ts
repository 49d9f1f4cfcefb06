/**
 * The loopback redirect target of the authorization-code flow (RFC 8252 7.3): a Hono app on
 * exactly the host, port and path of the registered redirect URI. The first request to that
 * path decides the login: a wrong `state` ends it at once (a stale tab or a forged request),
 * a provider error ends it with the provider's words, a code is exchanged while the browser
 * waits, so the page can say whether the login really worked. Any other path (a favicon, a
 * prefetch) gets 404 and the login keeps waiting. A code is used once.
 */
import { Hono } from "hono";
import { html } from "hono/html";
import { AuthsomeError, toAuthsomeError } from "../core/errors.ts";
import { serveFetch, type Listener } from "../runtime/index.ts";
import { scrub } from "./oauth-http.ts";

/** Options for {@link startCallbackServer}. */
export interface CallbackOptions<T> {
  /** The registered redirect URI; the server listens on its host, port and path. */
  redirectUri: string;
  /** The `state` sent with the authorization request. */
  state: string;
  /** Provider name for the browser page and messages. */
  providerName: string;
  /**
   * Checks the authorization response after its state matched and before anything else is read
   * (the `iss` check of RFC 9207 2.4); returns the checked parameters `complete` gets. A throw
   * ends the login with that error.
   */
  checkResponse?(params: URLSearchParams): URLSearchParams;
  /** Exchanges the code (`params` is the whole authorization response); runs while the browser waits for the page. */
  complete(code: string, params: URLSearchParams): Promise<T>;
}

/** A listening callback server. */
export interface CallbackServer<T> {
  /** Settles with `complete`'s value, or the reason the login ended. */
  result: Promise<T>;
  close(): Promise<void>;
}

function _page(title: string, message: string, ok: boolean) {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>authsome: ${title}</title>
<meta name="viewport" content="width=device-width,initial-scale=1"></head>
<body style="font:16px system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem">
<h1 style="color:${ok ? "#0a7a2f" : "#b00020"}">${title}</h1><p>${message}</p>
<p style="color:#555">${ok ? "You can close this tab and return to the terminal." : "Return to the terminal and run the login again."}</p>
</body></html>`;
}

/** Where to listen for a redirect URI: loopback only, an explicit port. */
export function listenAddress(redirectUri: string): { hostname: string; port: number; path: string } {
  const url = new URL(redirectUri);
  const host = url.hostname.replace(/^\[|\]$/g, "");
  if (url.protocol !== "http:" || !["127.0.0.1", "localhost", "::1"].includes(host)) {
    throw new AuthsomeError("usage", `the redirect URI ${redirectUri} is not a loopback http:// address`, { hint: "use http://127.0.0.1:<port>/<path> (RFC 8252 7.3)" });
  }
  if (url.port === "") throw new AuthsomeError("usage", `the redirect URI ${redirectUri} has no port`, { hint: "use e.g. http://127.0.0.1:7999/callback" });
  return { hostname: host === "localhost" ? "127.0.0.1" : host, port: Number(url.port), path: url.pathname };
}

function _callbackError(query: Record<string, string>, provider: string): AuthsomeError {
  const error = scrub(query["error"] ?? "", []);
  const description = query["error_description"] ? `: ${scrub(query["error_description"], [])}` : "";
  const code = error === "access_denied" ? "auth_cancelled" : "auth_failed";
  return new AuthsomeError(code, `${provider} refused the login: ${error}${description}`, { hint: "run the login again" });
}

type Settle<T> = { resolve(value: T): void; reject(error: unknown): void };

/** The page the browser gets for the deciding request. */
interface Outcome {
  title: string;
  message: string;
  ok: boolean;
  status: 200 | 400 | 502;
}

/** Decides the login from the first request to the callback path, in the order of the module comment. */
async function _decide<T>(options: CallbackOptions<T>, url: URL, settle: Settle<T>): Promise<Outcome> {
  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams) query[name] ??= value;
  if (query["state"] !== options.state) {
    settle.reject(new AuthsomeError("auth_failed", "the callback's state did not match this login, so it was refused and the login stopped", { hint: "run the login again and finish it in the tab it opens" }));
    return { title: "Login refused", message: "The request did not belong to the login that is waiting (state mismatch).", ok: false, status: 400 };
  }
  let params = url.searchParams;
  try {
    params = options.checkResponse?.(params) ?? params;
  } catch (error) {
    settle.reject(error);
    return { title: "Login refused", message: toAuthsomeError(error).message, ok: false, status: 400 };
  }
  const code = query["code"];
  if (query["error"] !== undefined || code === undefined || code === "") {
    const failure = query["error"] === undefined ? new AuthsomeError("auth_failed", `${options.providerName} sent no authorization code`) : _callbackError(query, options.providerName);
    settle.reject(failure);
    return { title: "Login failed", message: failure.message, ok: false, status: 400 };
  }
  try {
    settle.resolve(await options.complete(code, params));
    return { title: "Logged in", message: `authsome is connected to ${options.providerName}.`, ok: true, status: 200 };
  } catch (error) {
    settle.reject(error);
    return { title: "Login failed", message: toAuthsomeError(error).message, ok: false, status: 502 };
  }
}

/** Starts the callback server; throws `usage` when the port is taken. */
export async function startCallbackServer<T>(options: CallbackOptions<T>): Promise<CallbackServer<T>> {
  const { hostname, port, path } = listenAddress(options.redirectUri);
  let settle!: Settle<T>;
  const result = new Promise<T>((resolve, reject) => (settle = { resolve, reject }));
  result.catch(() => {});
  let decided = false;
  const app = new Hono();
  app.all("*", async (c) => {
    const url = new URL(c.req.url);
    if (c.req.method !== "GET" || url.pathname !== path) return c.text("not found", 404);
    if (decided) return c.html(_page("Login already finished", "This callback was already used; a code is good for one login only.", false), 400);
    decided = true;
    const outcome = await _decide(options, url, settle);
    return c.html(_page(outcome.title, outcome.message, outcome.ok), outcome.status);
  });
  let listener: Listener;
  try {
    listener = await serveFetch(app.fetch, { hostname, port });
  } catch (cause) {
    throw new AuthsomeError("usage", `cannot listen on ${hostname}:${port} for the OAuth callback (is another login running?)`, {
      cause,
      hint: "finish or stop the other login, or set AUTHSOME_REDIRECT_PORT to a free port your OAuth app allows",
    });
  }
  return { result, close: () => listener.close() };
}
