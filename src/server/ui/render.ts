/**
 * The dashboard's HTML: one escaping template tag and the page frame. Every interpolated value
 * is escaped (text and quoted attributes alike) unless it is markup this module built; there is
 * no way to pass a raw string in. Times are written as ISO `<time datetime>` elements and put
 * in the user's locale by the page's script.
 */

/** Markup built by {@link h}: interpolated as is. */
export class Markup {
  readonly value: string;
  /** @internal */
  constructor(value: string) {
    this.value = value;
  }
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Escapes text for HTML content and quoted attributes. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

function _piece(value: unknown): string {
  if (value instanceof Markup) return value.value;
  if (Array.isArray(value)) return value.map(_piece).join("");
  if (value === null || value === undefined || value === false) return "";
  return escapeHtml(String(value));
}

/** The template tag: `h\`<td>${name}</td>\`` escapes `name`; arrays are joined, null/false dropped. */
export function h(strings: TemplateStringsArray, ...values: unknown[]): Markup {
  let out = strings[0] ?? "";
  for (let i = 0; i < values.length; i += 1) out += _piece(values[i]) + (strings[i + 1] ?? "");
  return new Markup(out);
}

/** An ISO time shown in the user's locale (by app.js); the ISO text is the fallback. */
export function time(iso: string | null | undefined): Markup {
  return iso === null || iso === undefined ? h`<span class="muted">never</span>` : h`<time datetime="${iso}">${iso}</time>`;
}

/** The pages of the navigation. */
export type NavPage = "connections" | "runs" | "audit" | "settings";

const NAV: [NavPage, string, string][] = [
  ["connections", "/ui/", "Connections"],
  ["runs", "/ui/runs", "Running agents"],
  ["audit", "/ui/audit", "Audit log"],
  ["settings", "/ui/settings", "Profiles & plugins"],
];

/** A one-line message shown at the top of the next page (after a form's redirect). */
export interface Flash {
  kind: "ok" | "error";
  text: string;
}

/** What every page of a signed-in session shows around its body. */
export interface Frame {
  title: string;
  page: NavPage | null;
  profile: string;
  profiles: string[];
  flash?: Flash | undefined;
}

/** A URL of the dashboard keeping the profile (none given: the server's default). */
export function href(path: string, profile: string, params: Record<string, string> = {}): string {
  const query = new URLSearchParams(profile === "" ? params : { profile, ...params }).toString();
  return query === "" ? path : `${path}?${query}`;
}

/** The whole page: head (same-origin CSS and JS only), header with navigation and profile switch, body. */
export function page(frame: Frame, body: Markup): string {
  const nav = NAV.map(([id, path, label]) => h`<li><a href="${href(path, frame.profile)}"${id === frame.page ? h` aria-current="page"` : ""}>${label}</a></li>`);
  const current = NAV.find(([id]) => id === frame.page)?.[1] ?? "/ui/";
  const switcher = frame.profiles.length < 2 ? h`<span class="muted">profile ${frame.profile}</span>` : h`<form method="get" action="${current}"><label for="profile-switch">Profile <select id="profile-switch" name="profile">${frame.profiles.map((p) => h`<option${p === frame.profile ? h` selected` : ""}>${p}</option>`)}</select></label> <button>Switch</button></form>`;
  const flash = frame.flash === undefined ? "" : h`<p class="flash ${frame.flash.kind}" role="${frame.flash.kind === "error" ? "alert" : "status"}">${frame.flash.text}</p>`;
  return bare(frame.title, h`<a class="skip" href="#main">Skip to content</a><header><strong>authsome</strong><nav aria-label="Main"><ul>${nav}</ul></nav>${switcher}</header><main id="main">${flash}${body}</main>`);
}

/** A page without the navigation (signed out, a used link). */
export function bare(title: string, body: Markup): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeHtml(title)} · authsome</title><link rel="stylesheet" href="/ui/app.css"><script src="/ui/app.js" defer></script></head><body>${body.value}</body></html>`;
}

/** A short page with a heading and a paragraph (errors, signed out). */
export function notice(title: string, text: string, next?: Markup): string {
  return bare(title, h`<main><h1>${title}</h1><p>${text}</p>${next ?? ""}</main>`);
}

/** The hidden fields every form carries: the session's CSRF token and the profile. */
export function formFields(csrf: string, profile: string): Markup {
  return h`<input type="hidden" name="csrf" value="${csrf}"><input type="hidden" name="profile" value="${profile}">`;
}
