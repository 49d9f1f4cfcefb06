/**
 * The dashboard's main pages: connections per provider (status, expiry, scopes, the default),
 * the login forms, the explain box, the confirmation before a logout or revoke, and a login's
 * live progress. Rendering only: the data comes from the same service calls the CLI makes
 * (src/server/ui/index.ts), and no secret is ever in it (connection views without `secrets`).
 */
import type { Explanation } from "../../core/explain.ts";
import type { ConnectionView, ProviderView } from "../../core/views.ts";
import type { UiLogin } from "./logins.ts";
import { pager, sliceOf } from "./paging.ts";
import { type Frame, formFields, h, href, type Markup, page, time } from "./render.ts";

/** What the connections page shows. */
export interface ConnectionsData {
  frame: Frame;
  csrf: string;
  providers: ProviderView[];
  damaged: { source: string; message: string }[];
  explainUrl: string;
  explanation: Explanation | null;
  explainError: string | null;
  /** Which page of providers (the query's text). */
  page: string | undefined;
}

function _expiry(c: ConnectionView): Markup {
  if (c.expires_at === null) return h`<span class="muted">does not expire</span>`;
  return h`${time(c.expires_at)} <small data-expires="${c.expires_at}"></small>`;
}

function _row(p: ProviderView, c: ConnectionView, profile: string, back: Back | undefined): Markup {
  const status = c.status === "connected" ? h`<span class="ok">connected</span>` : h`<span class="bad">${c.status}</span>`;
  return h`<tr><td><input type="radio" name="connection" value="${c.connection}" aria-label="default: ${c.connection}"${c.is_default ? h` checked` : ""}></td><td>${c.connection}${c.is_default ? h` <span class="badge">default</span>` : ""}</td><td>${status}</td><td>${_expiry(c)}</td><td>${c.scopes.join(" ")}</td><td><a href="${href("/ui/confirm", profile, { provider: p.name, connection: c.connection, ...(back === undefined ? {} : { back: "provider", page: String(back.page) }) })}">Remove…</a></td></tr>`;
}

/** Where a form of the provider view sends the browser back to (the same page of it). */
export interface Back {
  provider: string;
  page: number;
}

function _backFields(back: Back | undefined): Markup | "" {
  return back === undefined ? "" : h`<input type="hidden" name="back" value="provider"><input type="hidden" name="page" value="${back.page}">`;
}

/** One provider's table of `shown` connections, with the default switch; `after` follows the table. */
function _provider(p: ProviderView, shown: ConnectionView[], csrf: string, profile: string, after: Markup | "", back?: Back): Markup {
  const id = `p-${p.name}`;
  return h`<section aria-labelledby="${id}"><h3 id="${id}">${p.display_name} <small>${p.name} · ${p.auth_type}</small></h3>
<form method="post" action="/ui/action/default">${formFields(csrf, profile)}<input type="hidden" name="provider" value="${p.name}">${_backFields(back)}<div class="scroll"><table><thead><tr><th scope="col">Default</th><th scope="col">Connection</th><th scope="col">Status</th><th scope="col">Expires</th><th scope="col">Scopes</th><th scope="col"><span class="muted">Actions</span></th></tr></thead><tbody>${shown.map((c) => _row(p, c, profile, back))}</tbody></table></div>${p.connections.length > 1 ? h`<button>Make the selected connection ${p.display_name}'s default</button>` : ""}</form>${after}</section>`;
}

/** The main page shows a provider's default and the next few; the rest are a link away. */
const SHOWN_PER_PROVIDER = 5;
/** Providers per main page: with both bounds the page stays small however the connections spread. */
const PROVIDERS_PER_PAGE = 20;
/** Connections per page of the provider view. */
const CONNECTIONS_PER_PAGE = 50;

function _summary(p: ProviderView, csrf: string, profile: string): Markup {
  const shown = [...p.connections.filter((c) => c.is_default), ...p.connections.filter((c) => !c.is_default)].slice(0, SHOWN_PER_PROVIDER);
  const more = p.connections.length > shown.length
    ? h`<p class="more"><a href="${href("/ui/provider", profile, { provider: p.name })}">Show all ${p.connections.length} ${p.display_name} connections</a> <small>(${shown.length} shown: the default first)</small></p>`
    : "";
  return _provider(p, shown, csrf, profile, more);
}

/** One provider's connections, a page at a time (`page` is the query's text). */
export function providerPage(frame: Frame, csrf: string, provider: ProviderView, requested: string | undefined): string {
  const slice = sliceOf(provider.connections, requested, CONNECTIONS_PER_PAGE);
  const nav = pager(slice, `Pages of ${provider.display_name} connections`, "/ui/provider", frame.profile, { provider: provider.name });
  const first = (slice.page - 1) * CONNECTIONS_PER_PAGE;
  const body = slice.total === 0
    ? h`<div class="card" id="no-connections"><p><strong>No ${provider.display_name} connections in profile ${frame.profile}.</strong> Log in on the <a href="${href("/ui/", frame.profile)}">connections page</a>, or at a terminal: <code>authsome login ${provider.name}</code>.</p></div>`
    : _provider(provider, slice.items, csrf, frame.profile, nav, { provider: provider.name, page: slice.page });
  const range = slice.total === 0 ? "" : h` <small>${first + 1}–${first + slice.items.length} of ${slice.total}</small>`;
  return page(frame, h`<h1>${provider.display_name} connections${range}</h1>${nav}${body}<p><a href="${href("/ui/", frame.profile)}">Back to all connections</a></p>`);
}

function _explain(data: ConnectionsData): Markup {
  const result = data.explanation;
  const answer = result === null ? (data.explainError === null ? "" : h`<p class="bad" role="alert">${data.explainError}</p>`) : h`<div class="card" id="explain-result" role="status"><p><strong class="${result.applies ? "ok" : "warn"}">${result.applies ? "Injected" : "No credential"}</strong> · <code>${result.url}</code></p><p>${result.reason}</p>
<p class="muted">authsome run: ${result.intercepted ? "TLS intercepted" : "passed untouched"} · with --deny-unmatched: ${result.deny_unmatched}</p>${result.candidates.length === 0 ? "" : h`<ul>${result.candidates.map((c) => h`<li><strong>${c.provider}</strong> (${c.outcome}): ${c.reason}</li>`)}</ul>`}</div>`;
  return h`<section aria-labelledby="explain-h"><h2 id="explain-h">Explain a URL</h2><p class="muted">Which provider, connection and rule a request would get, and where the credential goes. Nothing is sent.</p>
<form method="get" action="/ui/" role="search"><input type="hidden" name="profile" value="${data.frame.profile}"><div class="grid"><label for="explain-url">URL<input id="explain-url" name="explain" type="text" inputmode="url" value="${data.explainUrl}" placeholder="https://api.github.com/user" required></label><div><button>Explain</button></div></div></form>${answer}</section>`;
}

function _options(providers: ProviderView[], keep: (p: ProviderView) => boolean): Markup[] {
  return providers.filter(keep).map((p) => h`<option value="${p.name}">${p.display_name}</option>`);
}

function _loginForms(data: ConnectionsData): Markup {
  const { csrf, frame, providers } = data;
  return h`<section aria-labelledby="login-h"><h2 id="login-h">Log in</h2><div class="card"><h3>With an API key</h3>
<form method="post" action="/ui/action/login" autocomplete="off">${formFields(csrf, frame.profile)}<div class="grid"><label for="key-provider">Provider<select id="key-provider" name="provider" required>${_options(providers, (p) => p.flows.includes("api_key"))}</select></label>
<label for="key-connection">Connection name<input id="key-connection" name="connection" type="text" value="default" required pattern="[A-Za-z0-9][A-Za-z0-9._\\-]{0,63}"></label>
<label for="key-secret">API key<input id="key-secret" name="api_key" type="password" required autocomplete="off"></label>
<label><input type="checkbox" name="force" value="1"> Replace an existing connection <small>(and make it the default)</small></label><div><button class="primary">Save key</button></div></div></form>
<p class="muted">The key is stored encrypted on this machine; it is never shown again, here or to your agents.</p></div>
<div class="card"><h3>With OAuth</h3><form method="post" action="/ui/action/oauth">${formFields(csrf, frame.profile)}<div class="grid"><label for="oauth-provider">Provider<select id="oauth-provider" name="provider" required>${_options(providers, (p) => p.auth_type === "oauth2")}</select></label>
<label for="oauth-connection">Connection name<input id="oauth-connection" name="connection" type="text" value="default" required pattern="[A-Za-z0-9][A-Za-z0-9._\\-]{0,63}"></label>
<label for="oauth-flow">Flow<select id="oauth-flow" name="flow"><option value="">provider's default</option><option value="pkce">browser (PKCE)</option><option value="device_code">device code</option><option value="client_credentials">client credentials</option><option value="dcr_pkce">dynamic registration</option></select></label>
<label for="oauth-client">Client id <small>(optional)</small><input id="oauth-client" name="client_id" type="text"></label>
<label for="oauth-secret">Client secret <small>(optional; empty for a public client or one saved before)</small><input id="oauth-secret" name="client_secret" type="password" autocomplete="off"></label>
<label for="oauth-scopes">Scopes <small>(optional, comma-separated)</small><input id="oauth-scopes" name="scopes" type="text"></label>
<label><input type="checkbox" name="force" value="1"> Replace an existing connection</label><div><button class="primary">Start login</button></div></div></form></div></section>`;
}

/** The main page: explain box, connections per provider (a page of providers, a few connections each), login forms. */
export function connectionsPage(data: ConnectionsData): string {
  const connected = data.providers.filter((p) => p.connections.length > 0);
  const count = connected.reduce((n, p) => n + p.connections.length, 0);
  const slice = sliceOf(connected, data.page, PROVIDERS_PER_PAGE);
  const nav = pager(slice, "Pages of providers", "/ui/", data.frame.profile);
  const list = connected.length === 0
    ? h`<div class="card" id="no-connections"><p><strong>No connections in profile ${data.frame.profile} yet.</strong> Log in below with an API key or OAuth, or at a terminal: <code>authsome login &lt;provider&gt;</code>. Then run your agent with <code>authsome run -- &lt;command&gt;</code>.</p></div>`
    : h`${nav}${slice.items.map((p) => _summary(p, data.csrf, data.frame.profile))}${nav}`;
  const damaged = data.damaged.map((d) => h`<p class="flash error" role="alert">Damaged record: ${d.message} <small>(authsome doctor --repair moves it aside)</small></p>`);
  const counts = h`${count} in profile ${data.frame.profile}${connected.length > 1 ? `, ${connected.length} providers` : ""}`;
  return page(data.frame, h`<h1>Connections <small>${counts}</small></h1>${damaged}${_explain(data)}<section aria-labelledby="conn-h"><h2 id="conn-h">Providers with connections</h2>${list}</section>${_loginForms(data)}`);
}

/** The confirmation before removing a connection: log out (local only) or revoke (at the provider too); `back` when it came from the provider view. */
export function confirmPage(frame: Frame, csrf: string, provider: ProviderView, connection: ConnectionView, back?: Back): string {
  const fields = h`${formFields(csrf, frame.profile)}<input type="hidden" name="provider" value="${provider.name}"><input type="hidden" name="connection" value="${connection.connection}">${_backFields(back)}`;
  const cancel = back === undefined ? href("/ui/", frame.profile) : href("/ui/provider", frame.profile, { provider: provider.name, page: String(back.page) });
  return page(frame, h`<h1>Remove ${provider.display_name} connection “${connection.connection}”?</h1>
<div class="card"><form method="post" action="/ui/action/logout">${fields}<p><strong>Log out</strong>: removes the local record only; the provider is not contacted and the credential stays valid there.</p><button class="danger">Log out “${connection.connection}”</button></form></div>
<div class="card"><form method="post" action="/ui/action/revoke">${fields}<p><strong>Revoke</strong>: asks ${provider.display_name} to revoke the token where it offers that (RFC 7009), then removes the local record.</p><button class="danger">Revoke “${connection.connection}”</button></form></div>
<p><a href="${cancel}">Cancel, keep it</a></p>`);
}

/** A login started from the page, with its steps so far; the script follows the rest live. */
export function loginPage(frame: Frame, login: UiLogin): string {
  const done = login.done;
  const status = done === null ? h`<p id="login-status" class="flash" role="status">Waiting for the login to finish…</p>` : h`<p id="login-status" class="flash ${done.ok ? "ok" : "error"}" role="status">${done.text}</p>`;
  const steps = [...login.steps].reverse().map((s) => h`<li>${s.text}${s.url === undefined || !/^https?:\/\//.test(s.url) ? "" : h` <a href="${s.url}" target="_blank" rel="noreferrer">open</a>`}</li>`);
  const live = done === null ? `/ui/logins/${login.id}/events?from=${login.steps.length}` : "";
  return page(frame, h`<h1>Logging in to ${login.provider} <small>connection ${login.connection}</small></h1>${status}<ul id="login-log" class="events" aria-live="polite" data-live="${live}">${steps}</ul><p><a href="${href("/ui/", frame.profile)}">Back to connections</a></p>`);
}
