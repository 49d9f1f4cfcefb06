/**
 * Who may see the dashboard: whoever opened a one-time link that `authsome ui` (or `serve`)
 * printed. The link's token is random, single use and short-lived; opening it sets an HttpOnly,
 * SameSite=Strict session cookie and redirects to a clean URL, so the token never stays in the
 * address bar, the history or a Referer. Each session has its own CSRF token, which every form
 * and state-changing request must carry (compared in constant time).
 *
 * Cookies are scoped by host, not port: another local server on 127.0.0.1 would be sent the
 * cookie too. That is why the session is not enough on its own: the guard's Origin and
 * Sec-Fetch-Site checks and the CSRF token hold even against a page on another local port.
 */
import { constantTimeEqual, randomToken } from "../../core/crypto.ts";

/** One browser session. */
export interface UiSession {
  id: string;
  /** The token every form and state-changing request must carry. */
  csrf: string;
  expiresAt: number;
}

/** Options for {@link createUiSessions}. */
export interface UiSessionOptions {
  /** How long a one-time link may wait to be opened; default 2 minutes. */
  linkTtlMs?: number;
  /** How long a session lasts; default 12 hours. */
  sessionTtlMs?: number;
  now?: () => number;
}

/** The dashboard's links and sessions (in memory: they die with the server). */
export interface UiSessions {
  /** A fresh one-time token for a login link. */
  mintLink(): string;
  /** Spends a link token: a new session, or null when the token is unknown, used or expired. */
  redeem(token: string): UiSession | null;
  /** The live session a cookie value names, or null. */
  find(cookie: string | undefined): UiSession | null;
  /** True when `sent` is the session's CSRF token. */
  checkCsrf(session: UiSession, sent: unknown): boolean;
}

/** The cookie's name: per port, so two dashboards of two homes do not overwrite each other's. */
export function sessionCookieName(port: number): string {
  return `authsome_ui_${port}`;
}

/** Bound on pending links and sessions: a loop of `authsome ui` calls must not grow memory forever. */
const MAX_ENTRIES = 256;

/** Creates the store of links and sessions. */
export function createUiSessions(options: UiSessionOptions = {}): UiSessions {
  const now = options.now ?? Date.now;
  const linkTtl = options.linkTtlMs ?? 120_000;
  const sessionTtl = options.sessionTtlMs ?? 12 * 3_600_000;
  const links = new Map<string, number>();
  const sessions = new Map<string, UiSession>();
  const prune = <T>(map: Map<string, T>, expiry: (value: T) => number) => {
    for (const [key, value] of map) if (expiry(value) <= now() || map.size > MAX_ENTRIES) map.delete(key);
  };
  return {
    mintLink() {
      prune(links, (at) => at);
      const token = randomToken(24);
      links.set(token, now() + linkTtl);
      return token;
    },
    redeem(token) {
      const expires = links.get(token);
      // Spent on first use, whatever the outcome: a link is never good twice.
      links.delete(token);
      if (expires === undefined || expires <= now()) return null;
      prune(sessions, (s) => s.expiresAt);
      const session = { id: randomToken(32), csrf: randomToken(24), expiresAt: now() + sessionTtl };
      sessions.set(session.id, session);
      return session;
    },
    find(cookie) {
      if (cookie === undefined || cookie === "") return null;
      const session = sessions.get(cookie);
      if (session === undefined) return null;
      if (session.expiresAt <= now()) {
        sessions.delete(cookie);
        return null;
      }
      return session;
    },
    checkCsrf(session, sent) {
      return typeof sent === "string" && constantTimeEqual(sent, session.csrf);
    },
  };
}
