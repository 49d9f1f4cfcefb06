/**
 * The local dashboard, mounted on the daemon's Hono app under `/ui/` (`authsome ui`, `authsome
 * serve`). Server-rendered pages over the same `/v1` operations the CLI calls (callOperation),
 * so there is no second implementation of any decision; small same-origin script for the live
 * parts. Safe by construction:
 *
 * - every request passes the local guard (guard.ts: Host names this listener, so DNS rebinding
 *   fails; no foreign Origin or Sec-Fetch-Site on a state change);
 * - a session exists only after a one-time link was opened (session.ts), held in an HttpOnly,
 *   SameSite=Strict cookie; every form carries the session's CSRF token;
 * - strict CSP and no-embedding headers on every answer (respond.ts); no secret is ever read
 *   for a page (listings are metadata; the API-key form only writes).
 */
import type { Hono } from "hono";
import { getCookie, setCookie } from "hono/cookie";
import type { AuthService } from "../../core/auth-service.ts";
import { toAuthsomeError } from "../../core/errors.ts";
import { checkLocalRequest } from "../guard.ts";
import type { RunRegistry } from "../run-registry.ts";
import { APP_CSS, APP_JS } from "./assets.ts";
import { createLoginTracker } from "./logins.ts";
import { bindSession, mountPages, type PageContext } from "./routes.ts";
import { createEventStreams, secure } from "./respond.ts";
import { notice } from "./render.ts";
import { createUiSessions, sessionCookieName, type UiSessions } from "./session.ts";

/** Options for {@link mountDashboard}. */
export interface DashboardOptions {
  /** The service for a profile (undefined = the server's default profile). */
  getService(profile: string | undefined): Promise<AuthService>;
  /** The port the server listens on (read per request: port 0 is known only once listening). */
  port(): number;
  /** The runs the server hosts (the live view). */
  runs: RunRegistry;
  /** Links and sessions (tests pass their own clock). */
  sessions?: UiSessions;
}

/** The mounted dashboard. */
export interface Dashboard {
  /** A fresh one-time sign-in URL (single use, expires in 2 minutes). */
  link(): string;
  /** Ends live streams and cancels logins in progress (before the listener closes). */
  close(): void;
}

const PUBLIC = new Set(["/ui/app.css", "/ui/app.js"]);

/** The one-time link's exchange for a session cookie, and the check that every other page has one. */
function _mountSignIn(app: Hono, sessions: UiSessions, cookie: () => string): void {
  app.get("/ui/login/:token", (c) => {
    const session = sessions.redeem(c.req.param("token"));
    if (session === null) return c.html(notice("This link has expired", "A sign-in link works once, for two minutes. Run authsome ui again for a new one."), 403);
    setCookie(c, cookie(), session.id, { httpOnly: true, sameSite: "Strict", path: "/ui", maxAge: Math.floor((session.expiresAt - Date.now()) / 1000) });
    // A clean URL: the spent token leaves the address bar.
    return c.redirect("/ui/", 303);
  });
  app.use("/ui/*", async (c, next) => {
    if (PUBLIC.has(c.req.path) || c.req.path.startsWith("/ui/login/")) return next();
    const session = sessions.find(getCookie(c, cookie()));
    if (session === null) {
      return c.html(notice("Sign in first", "Open the one-time link that authsome ui (or authsome serve) printed; run authsome ui for a new one."), 401);
    }
    bindSession(c.req.raw, session);
    return next();
  });
}

/** Adds `/ui/*` (and `/` redirecting to it) to `app`. */
export function mountDashboard(app: Hono, options: DashboardOptions): Dashboard {
  const sessions = options.sessions ?? createUiSessions();
  const streams = createEventStreams();
  const logins = createLoginTracker();
  const cookie = () => sessionCookieName(options.port());

  app.use("/ui/*", async (c, next) => {
    try {
      checkLocalRequest(c.req, options.port(), { json: false });
    } catch (error) {
      const failure = toAuthsomeError(error);
      return secure(c.html(notice("Refused", failure.message), failure.status as 403));
    }
    await next();
    secure(c.res);
  });
  app.get("/", (c) => c.redirect("/ui/", 302));
  // Browsers ask for it on every page; an answer keeps their consoles free of 404s.
  app.get("/favicon.ico", (c) => c.body(null, 204));
  app.get("/ui", (c) => c.redirect("/ui/", 302));
  app.get("/ui/app.css", (c) => c.body(APP_CSS, 200, { "content-type": "text/css; charset=utf-8" }));
  app.get("/ui/app.js", (c) => c.body(APP_JS, 200, { "content-type": "text/javascript; charset=utf-8" }));
  _mountSignIn(app, sessions, cookie);
  const context: PageContext = {
    sessions,
    streams,
    logins,
    runs: options.runs,
    // The server's own profile by any name is its one service (one cache, one store watcher).
    service: async (profile) => {
      const base = await options.getService(undefined);
      return profile === undefined || profile === "" || profile === base.context.profile ? base : options.getService(profile);
    },
  };
  mountPages(app, context);
  return {
    link: () => `http://127.0.0.1:${options.port()}/ui/login/${sessions.mintLink()}`,
    close() {
      streams.closeAll();
      logins.close();
    },
  };
}
