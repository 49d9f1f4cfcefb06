/**
 * The dashboard's pages and form actions. Each page reads through the `/v1` operations
 * (callOperation, as the CLI does); each form is a POST with the session's CSRF token, answered
 * by a redirect back (Post/Redirect/Get) with a one-line message, so a reload never repeats it.
 */
import type { Context, Hono } from "hono";
import type { AuthService } from "../../core/auth-service.ts";
import { AuthsomeError, toAuthsomeError } from "../../core/errors.ts";
import type { Explanation } from "../../core/explain.ts";
import type { ProfileView } from "../../core/profiles.ts";
import { callOperation } from "../routes.ts";
import type { RunRegistry } from "../run-registry.ts";
import type { LoginTracker } from "./logins.ts";
import { auditPage, confirmProfilePage, runsFragment, runsPage, settingsPage } from "./pages-more.ts";
import { confirmPage, connectionsPage, loginPage, providerPage } from "./pages.ts";
import { type Flash, type Frame, href, type NavPage, notice } from "./render.ts";
import { type EventStreams, htmlResponse } from "./respond.ts";
import type { UiSession, UiSessions } from "./session.ts";

/** What the page routes share. */
export interface PageContext {
  sessions: UiSessions;
  streams: EventStreams;
  logins: LoginTracker;
  runs: RunRegistry;
  /** The service for a profile named in a query or form (empty = the server's default). */
  service(profile: string | undefined): Promise<AuthService>;
}

// The session the auth middleware (index.ts) found for each request: every page route runs after it.
const requestSessions = new WeakMap<Request, UiSession>();

/** Records the session a request was signed in with (the auth middleware). */
export function bindSession(request: Request, session: UiSession): void {
  requestSessions.set(request, session);
}

function _session(c: Context): UiSession {
  const session = requestSessions.get(c.req.raw);
  if (session === undefined) throw new AuthsomeError("unauthorized", "no dashboard session");
  return session;
}

const flashes = new WeakMap<UiSession, Flash>();

function _field(form: Record<string, unknown>, name: string): string {
  const value = form[name];
  return typeof value === "string" ? value.trim() : "";
}

/** Drops empty fields, so an operation sees "not given" rather than "". */
function _given(fields: Record<string, string | boolean | string[] | undefined>): Record<string, string | boolean | string[]> {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined && v !== "")) as Record<string, string | boolean | string[]>;
}

/** What a page handler gets: the service of the profile asked for and the frame around the page. */
interface PageState {
  c: Context;
  service: AuthService;
  session: UiSession;
  frame: Frame;
}

function _page(ctx: PageContext, nav: NavPage | null, title: string, render: (state: PageState) => Promise<string>) {
  return async (c: Context) => {
    const session = _session(c);
    try {
      const { service, profiles } = await _listed(ctx, c.req.query("profile"));
      const flash = flashes.get(session);
      flashes.delete(session);
      const frame: Frame = { title, page: nav, profile: service.context.profile, profiles: profiles.map((p) => p.name), flash };
      return htmlResponse(await render({ c, service, session, frame }), c.req.header("accept-encoding"));
    } catch (error) {
      const failure = toAuthsomeError(error);
      return htmlResponse(notice("Cannot show this page", `${failure.message}${failure.hint === undefined ? "" : ` (${failure.hint})`}`), undefined, failure.status);
    }
  };
}

/**
 * The service of a profile and the home's profiles, refusing a profile no longer listed: the
 * server keeps a service per profile it was asked for, so one removed meanwhile (from this page
 * or a terminal) must not go on being shown, or written to, through that kept service.
 */
async function _listed(ctx: PageContext, profile: string | undefined): Promise<{ service: AuthService; profiles: ProfileView[] }> {
  const service = await ctx.service(profile);
  const { profiles } = await callOperation("listProfiles", {}, { service });
  const name = service.context.profile;
  if (!profiles.some((p) => p.name === name)) throw new AuthsomeError("profile_not_found", `no profile "${name}" (it was removed)`, { hint: "see the profiles page" });
  return { service, profiles };
}

/** A form action: CSRF checked, the work done, a message kept for the page it redirects to. */
/** What an action did: the message, and the page to show it on (default: the main page). */
interface Done {
  text: string;
  to?: string;
  params?: Record<string, string> | undefined;
}

function _action(app: Hono, ctx: PageContext, path: string, work: (form: Record<string, unknown>, service: AuthService) => Promise<Done>): void {
  app.post(path, async (c) => {
    const session = _session(c);
    const form = (await c.req.parseBody()) as Record<string, unknown>;
    if (!ctx.sessions.checkCsrf(session, form["csrf"])) {
      return c.html(notice("Refused", "The form's token is missing or wrong: reload the dashboard and try again. Nothing was changed."), 403);
    }
    const profile = _field(form, "profile") || undefined;
    let to = _back(form);
    try {
      const done = await work(form, (await _listed(ctx, profile)).service);
      flashes.set(session, { kind: "ok", text: done.text });
      if (done.to !== undefined) to = { to: done.to, params: done.params };
    } catch (error) {
      const failure = toAuthsomeError(error);
      flashes.set(session, { kind: "error", text: `${failure.message}${failure.hint === undefined ? "" : ` (${failure.hint})`}` });
    }
    return c.redirect(href(to.to, profile ?? "", to.params), 303);
  });
}

/** Where a form's answer shows, success or not: the page it names (`back`: the provider view at its page, or settings), else the main page. */
function _back(form: Record<string, unknown>): { to: string; params?: Record<string, string> | undefined } {
  if (_field(form, "back") === "settings") return { to: "/ui/settings" };
  if (_field(form, "back") !== "provider" || _field(form, "provider") === "") return { to: "/ui/" };
  const page = /^[0-9]{1,6}$/.test(_field(form, "page")) ? _field(form, "page") : "1";
  return { to: "/ui/provider", params: { provider: _field(form, "provider"), page } };
}

function _mountActions(app: Hono, ctx: PageContext): void {
  _action(app, ctx, "/ui/action/login", async (form, service) => {
    const apiKey = _field(form, "api_key");
    if (apiKey === "") throw new AuthsomeError("usage", "paste the API key into the form");
    const view = await callOperation("login", { provider: _field(form, "provider"), ..._given({ connection: _field(form, "connection") }), api_key: apiKey, force: form["force"] === "1" }, { service });
    return { text: `Saved the key for ${view.provider} as connection "${view.connection}"${view.is_default ? " (default)" : ""}.` };
  });
  _action(app, ctx, "/ui/action/oauth", async (form, service) => {
    const scopes = _field(form, "scopes").split(/[\s,]+/).filter(Boolean);
    const input = { provider: _field(form, "provider"), ..._given({ connection: _field(form, "connection"), flow: _field(form, "flow"), client_id: _field(form, "client_id"), scopes: scopes.length === 0 ? undefined : scopes }), force: form["force"] === "1" };
    // A client secret is taken like `login`'s piped stdin: never echoed, never in a URL.
    const login = ctx.logins.start(service, input as Parameters<LoginTracker["start"]>[1], typeof form["client_secret"] === "string" ? form["client_secret"] : "");
    return { text: `Login to ${login.provider} started.`, to: `/ui/logins/${login.id}` };
  });
  _action(app, ctx, "/ui/action/default", async (form, service) => {
    if (_field(form, "connection") === "") throw new AuthsomeError("usage", "pick the connection to make the default");
    const view = await callOperation("setDefault", { provider: _field(form, "provider"), connection: _field(form, "connection") }, { service });
    return { text: `${view.provider}: the default connection is now "${view.connection}".` };
  });
  _action(app, ctx, "/ui/action/logout", async (form, service) => {
    const done = await callOperation("logout", { provider: _field(form, "provider"), connection: _field(form, "connection") }, { service });
    return { text: `${done.provider}: logged out ${done.removed.map((n) => `"${n}"`).join(", ")} (local record removed).` };
  });
  _action(app, ctx, "/ui/action/revoke", async (form, service) => {
    const provider = _field(form, "provider");
    await callOperation("revoke", { provider, connection: _field(form, "connection") }, { service });
    return { text: `${provider}: connection "${_field(form, "connection")}" revoked and removed.` };
  });
  _action(app, ctx, "/ui/action/profile", async (form, service) => {
    const made = await callOperation("createProfile", { name: _field(form, "name"), ..._given({ description: _field(form, "description") }) }, { service });
    return { text: `Profile "${made.name}" created.`, to: "/ui/settings" };
  });
  _action(app, ctx, "/ui/action/profile-remove", async (form, service) => {
    const name = _field(form, "name");
    const served = (await ctx.service(undefined)).context.profile;
    // The CLI's rules come from the operation (default refused, connections only with force); this
    // one is the page's own: the running server holds its profile's service, so it stays.
    if (name === served && name !== "default") throw new AuthsomeError("usage", `profile "${name}" is the one this dashboard serves`, { hint: `stop the dashboard, then: authsome profile remove ${name}` });
    await callOperation("removeProfile", { name, force: form["force"] === "1" }, { service });
    return { text: `Removed profile "${name}".`, to: "/ui/settings" };
  });
}

async function _explain(service: AuthService, url: string): Promise<{ explanation: Explanation | null; explainError: string | null }> {
  if (url === "") return { explanation: null, explainError: null };
  try {
    return { explanation: await callOperation("explain", { url }, { service }), explainError: null };
  } catch (error) {
    return { explanation: null, explainError: toAuthsomeError(error).message };
  }
}

function _mountLive(app: Hono, ctx: PageContext): void {
  app.get("/ui/runs", _page(ctx, "runs", "Running agents", async ({ frame }) => runsPage(frame, ctx.runs.list())));
  app.get("/ui/runs/fragment", (c) => c.html(runsFragment(ctx.runs.list()).value));
  app.get("/ui/events", (c) => ctx.streams.open(c.req.raw.signal, (send) => ctx.runs.subscribe((event) => send("run", event))));
  app.get("/ui/logins/:id", _page(ctx, null, "Login", async ({ c, frame }) => {
    const login = ctx.logins.get(c.req.param("id") ?? "");
    if (login === undefined) throw new AuthsomeError("usage", "no such login (it finished long ago, or the server restarted)");
    return loginPage(frame, login);
  }));
  app.get("/ui/logins/:id/events", (c) => {
    const login = ctx.logins.get(c.req.param("id"));
    if (login === undefined) return c.text("no such login", 404);
    const from = Number(c.req.query("from") ?? "0") || 0;
    return ctx.streams.open(c.req.raw.signal, (send, end) => {
      for (const step of login.steps.slice(from)) send("step", step);
      if (login.done !== null) {
        send("done", login.done);
        end();
        return () => {};
      }
      return login.subscribe((event) => {
        if (event.kind === "step") send("step", event.step);
        else {
          send("done", { ok: event.ok, text: event.text });
          end();
        }
      });
    });
  });
}

/** Mounts every page and action (after the guard and the session check of index.ts). */
export function mountPages(app: Hono, ctx: PageContext): void {
  app.get("/ui/", _page(ctx, "connections", "Connections", async ({ c, service, session, frame }) => {
    const listing = await callOperation("listProviders", {}, { service });
    const explainUrl = c.req.query("explain") ?? "";
    return connectionsPage({ frame, csrf: session.csrf, providers: listing.providers, damaged: listing.damaged, explainUrl, page: c.req.query("page"), ...(await _explain(service, explainUrl)) });
  }));
  app.get("/ui/provider", _page(ctx, "connections", "Connections", async ({ c, service, session, frame }) => {
    const provider = await callOperation("inspectProvider", { provider: c.req.query("provider") ?? "" }, { service });
    return providerPage({ ...frame, title: `${provider.display_name} connections` }, session.csrf, provider, c.req.query("page"));
  }));
  app.get("/ui/confirm", _page(ctx, "connections", "Confirm", async ({ c, service, session, frame }) => {
    const provider = await callOperation("inspectProvider", { provider: c.req.query("provider") ?? "" }, { service });
    const connection = provider.connections.find((x) => x.connection === c.req.query("connection"));
    if (connection === undefined) throw new AuthsomeError("connection_not_found", `no connection "${c.req.query("connection") ?? ""}" for ${provider.name}`);
    const page = Number.parseInt(c.req.query("page") ?? "", 10);
    return confirmPage(frame, session.csrf, provider, connection, c.req.query("back") === "provider" ? { provider: provider.name, page: page >= 1 ? page : 1 } : undefined);
  }));
  app.get("/ui/audit", _page(ctx, "audit", "Audit log", async ({ c, service, frame }) => {
    const filters = { action: c.req.query("action") ?? "", provider: c.req.query("provider") ?? "", outcome: c.req.query("outcome") ?? "", since: c.req.query("since") ?? "" };
    const verification = await callOperation("verifyAudit", {}, { service });
    try {
      const { entries } = await callOperation("auditEntries", filters.since === "" ? {} : { since: filters.since }, { service });
      return auditPage(frame, entries, verification, filters, null);
    } catch (error) {
      return auditPage(frame, [], verification, filters, toAuthsomeError(error).message);
    }
  }));
  app.get("/ui/settings", _page(ctx, "settings", "Profiles & plugins", async ({ service, session, frame }) => {
    const [{ profiles }, listing] = await Promise.all([callOperation("listProfiles", {}, { service }), callOperation("listProviders", {}, { service })]);
    return settingsPage(frame, session.csrf, profiles, listing.providers, listing.errors, (await ctx.service(undefined)).context.profile);
  }));
  app.get("/ui/confirm-profile", _page(ctx, "settings", "Remove a profile", async ({ c, session, frame }) => {
    const name = c.req.query("name") ?? "";
    if (!frame.profiles.includes(name)) throw new AuthsomeError("profile_not_found", `no profile "${name}"`, { hint: "see the profiles page" });
    const { providers } = await callOperation("listProviders", {}, { service: await ctx.service(name) });
    return confirmProfilePage(frame, session.csrf, name, providers.filter((p) => p.connections.length > 0));
  }));
  _mountLive(app, ctx);
  _mountActions(app, ctx);
}
