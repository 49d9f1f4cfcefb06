/**
 * The dashboard's other pages: running agents (live), the audit log with filters and its
 * verify state, and profiles with installed plugins and the errors of refused ones.
 */
import type { AuditEntry, AuditVerification } from "../../core/audit.ts";
import type { ProfileView } from "../../core/profiles.ts";
import type { ProviderView } from "../../core/views.ts";
import type { RunEvent, RunSummary } from "../run-registry.ts";
import { type Frame, formFields, h, href, type Markup, page, time } from "./render.ts";

function _hosts(run: RunSummary): Markup {
  if (run.hosts.length === 0) return h`<span class="muted">none yet</span>`;
  return h`${run.hosts.map((x) => h`<span class="badge ${x.blocked ? "bad" : x.intercepted ? "ok" : ""}">${x.host}${x.blocked ? " blocked" : x.intercepted ? "" : " tunnel"}</span> `)}`;
}

/** The runs table alone (the live view swaps it in on every event). */
export function runsFragment(runs: RunSummary[]): Markup {
  if (runs.length === 0) {
    return h`<div class="card" id="no-runs"><p><strong>No agents running.</strong> Start one at a terminal of this home, e.g. <code>authsome run -- python agent.py</code>: it shows up here as it starts, with every host it contacts, each request injected and each one blocked (<code>--deny-unmatched</code> or a tripwire).</p></div>`;
  }
  const rows = [...runs].reverse().map((r) => h`<tr data-run="${r.id}"><td><code>${r.id.slice(0, 6)}</code></td><td>${r.pid ?? ""}</td><td><code>${r.command ?? "?"}</code></td><td>${r.profile}</td><td>${time(r.started_at)}</td><td>${r.ended_at === null ? h`<span class="ok">running</span>` : h`ended ${time(r.ended_at)}`}</td><td class="injected">${r.injected}</td><td class="blocked">${r.blocked}${r.deny_unmatched ? h` <small>deny mode</small>` : ""}</td><td class="tripped">${r.tripped}</td><td>${_hosts(r)}</td></tr>`);
  return h`<div class="scroll"><table><thead><tr><th scope="col">Run</th><th scope="col">PID</th><th scope="col">Command</th><th scope="col">Profile</th><th scope="col">Started</th><th scope="col">State</th><th scope="col">Injected</th><th scope="col">Blocked</th><th scope="col">Tripwire</th><th scope="col">Hosts</th></tr></thead><tbody>${rows}</tbody></table></div>`;
}

function _event(e: RunEvent): Markup {
  const via = e.provider === undefined ? "" : ` via ${e.provider}${e.connection === undefined ? "" : `/${e.connection}`}`;
  return h`<li data-kind="${e.kind}">${time(e.time)} run ${e.run.slice(0, 6)} ${e.kind}${e.method === undefined ? "" : ` ${e.method}`}${e.host === undefined ? "" : ` ${e.host}`}${via}${e.status === undefined ? "" : ` (${e.status})`}</li>`;
}

/** Running agents: the table and the event feed, kept current by server-sent events. */
export function runsPage(frame: Frame, runs: RunSummary[]): string {
  const events = runs.flatMap((r) => r.recent).sort((a, b) => b.time.localeCompare(a.time)).slice(0, 100);
  return page(frame, h`<h1>Running agents</h1><p class="muted">Runs this server hosts (<code>authsome run</code> in this home), as they happen.</p>
<div id="runs" data-live="/ui/events" data-fragment="/ui/runs/fragment" aria-live="polite">${runsFragment(runs)}</div>
<h2>Events</h2><ul id="run-events" class="events" aria-live="polite">${events.length === 0 ? h`<li class="empty muted">Nothing yet.</li>` : events.map(_event)}</ul>`);
}

/** The audit page's filters (from the query string). */
export interface AuditFilters {
  action: string;
  provider: string;
  outcome: string;
  since: string;
}

function _verify(v: AuditVerification): Markup {
  if (!v.ok) return h`<p class="flash error" role="alert" id="audit-verify">The audit log was edited: line ${v.problem?.line ?? "?"}: ${v.problem?.reason ?? "the chain does not verify"}.</p>`;
  const crashes = v.crashes?.length ? h` ${v.crashes.length} crash cut(s) recovered.` : "";
  return h`<p class="flash ok" role="status" id="audit-verify">Hash chain verified: ${v.lines} entries, no edits.${crashes}</p>`;
}

function _select(name: string, label: string, values: string[], chosen: string): Markup {
  return h`<label for="audit-${name}">${label}<select id="audit-${name}" name="${name}"><option value="">any</option>${values.map((x) => h`<option${x === chosen ? h` selected` : ""}>${x}</option>`)}</select></label>`;
}

/** The audit log, newest first, with filters and the verify state. */
export function auditPage(frame: Frame, entries: AuditEntry[], verification: AuditVerification, filters: AuditFilters, error: string | null): string {
  const distinct = (pick: (e: AuditEntry) => string | undefined) => [...new Set(entries.map(pick).filter((x): x is string => x !== undefined))].sort();
  const shown = entries.filter((e) => (filters.action === "" || e.action === filters.action) && (filters.provider === "" || e.provider === filters.provider) && (filters.outcome === "" || e.outcome === filters.outcome)).reverse().slice(0, 500);
  const rows = shown.map((e) => h`<tr><td>${time(e.time)}</td><td>${e.action}</td><td>${e.provider ?? ""}${e.connection === undefined ? "" : `/${e.connection}`}</td><td>${e.host ?? ""}</td><td>${e.method ?? ""} ${e.status ?? ""}</td><td class="${e.outcome === "ok" ? "ok" : "bad"}">${e.outcome}${e.error === undefined ? "" : ` ${e.error}`}</td><td>${e.actor} <small>pid ${e.pid}</small></td></tr>`);
  const form = h`<form method="get" action="/ui/audit"><input type="hidden" name="profile" value="${frame.profile}"><div class="grid">${_select("action", "Action", distinct((e) => e.action), filters.action)}${_select("provider", "Provider", distinct((e) => e.provider), filters.provider)}${_select("outcome", "Outcome", ["ok", "error", "denied"], filters.outcome)}
<label for="audit-since">Since <small>(ISO time or 30m, 2h, 7d)</small><input id="audit-since" name="since" type="text" value="${filters.since}"></label><div><button>Filter</button></div></div></form>`;
  const table = shown.length === 0 ? h`<p class="card">No entries${entries.length === 0 ? " yet: logins, injections and every credential read are recorded here" : " match these filters"}.</p>` : h`<div class="scroll"><table><thead><tr><th scope="col">Time</th><th scope="col">Action</th><th scope="col">Provider</th><th scope="col">Host</th><th scope="col">Request</th><th scope="col">Outcome</th><th scope="col">Actor</th></tr></thead><tbody>${rows}</tbody></table></div>`;
  return page(frame, h`<h1>Audit log <small>profile ${frame.profile}</small></h1>${_verify(verification)}${error === null ? "" : h`<p class="flash error" role="alert">${error}</p>`}${form}<p class="muted">${shown.length} of ${entries.length} entries shown (newest first, at most 500).</p>${table}`);
}

function _profileAction(p: ProfileView, frame: Frame, served: string): Markup {
  if (p.name === "default") return h`<span class="muted">always kept</span>`;
  if (p.name === served) return h`<span class="muted">served by this dashboard</span>`;
  return h`<a href="${href("/ui/confirm-profile", frame.profile, { name: p.name })}" aria-label="Remove profile ${p.name}…">Remove…</a>`;
}

/** Profiles (with a form to create one, a link to remove one) and plugins, with the errors of refused ones; `served` is the server's own profile. */
export function settingsPage(frame: Frame, csrf: string, profiles: ProfileView[], providers: ProviderView[], errors: { source: string; message: string }[], served: string): string {
  const profileRows = profiles.map((p) => h`<tr><td><a href="${href("/ui/", p.name)}">${p.name}</a>${p.name === frame.profile ? h` <span class="badge">shown</span>` : ""}</td><td>${p.description ?? ""}</td><td>${time(p.created_at)}</td><td>${_profileAction(p, frame, served)}</td></tr>`);
  const pluginRows = providers.map((p) => h`<tr><td>${p.display_name} <small>${p.name}</small></td><td>${p.auth_type}</td><td>${p.flows.join(", ")}</td><td>${p.source}</td><td>${p.connections.length}</td></tr>`);
  const refused = errors.length === 0 ? h`<p class="muted">No plugin was refused.</p>` : h`<ul>${errors.map((e) => h`<li class="bad"><code>${e.source}</code>: ${e.message}</li>`)}</ul>`;
  return page(frame, h`<h1>Profiles &amp; plugins</h1><section aria-labelledby="prof-h"><h2 id="prof-h">Profiles</h2><div class="scroll"><table><thead><tr><th scope="col">Name</th><th scope="col">Description</th><th scope="col">Created</th><th scope="col"><span class="muted">Actions</span></th></tr></thead><tbody>${profileRows}</tbody></table></div>
<form method="post" action="/ui/action/profile" class="card">${formFields(csrf, frame.profile)}<div class="grid"><label for="new-profile">New profile<input id="new-profile" name="name" type="text" required pattern="[A-Za-z0-9][A-Za-z0-9._\\-]{0,63}"></label><label for="new-profile-desc">Description <small>(optional)</small><input id="new-profile-desc" name="description" type="text"></label><div><button>Create profile</button></div></div></form></section>
<section aria-labelledby="plug-h"><h2 id="plug-h">Plugins</h2><p class="muted">Install with <code>authsome providers add &lt;file or package&gt;</code>.</p><h3>Refused plugins</h3>${refused}<div class="scroll"><table><thead><tr><th scope="col">Provider</th><th scope="col">Auth</th><th scope="col">Flows</th><th scope="col">Source</th><th scope="col">Connections</th></tr></thead><tbody>${pluginRows}</tbody></table></div></section>`);
}

/**
 * The confirmation before removing a profile (as `authsome profile remove`): what it holds, and
 * the explicit choice `--force` is at a terminal when it still has connections. The form posts
 * as the server's own profile (empty `profile`), so the removal is audited there, as the CLI run
 * in the server's environment would audit it.
 */
export function confirmProfilePage(frame: Frame, csrf: string, name: string, connected: ProviderView[]): string {
  const count = connected.reduce((n, p) => n + p.connections.length, 0);
  const holds = count === 0
    ? h`<p>It holds no connections. Its vault, data key and records are deleted.</p>`
    : h`<p>It still holds <strong>${count} connection${count === 1 ? "" : "s"}</strong> (${connected.map((p) => p.display_name).join(", ")}): ${count === 1 ? "its credential is" : "their credentials are"} deleted with the profile and cannot be recovered. Nothing is revoked at the providers.</p>
<label><input type="checkbox" name="force" value="1" required> Delete its ${count} connection${count === 1 ? "" : "s"} too <small>(like --force)</small></label>`;
  return page(frame, h`<h1>Remove profile “${name}”?</h1>
<div class="card"><form method="post" action="/ui/action/profile-remove">${formFields(csrf, "")}<input type="hidden" name="back" value="settings"><input type="hidden" name="name" value="${name}">${holds}<p><button class="danger">Remove profile “${name}”</button></p></form></div>
<p><a href="${href("/ui/settings", frame.profile)}">Cancel, keep it</a></p>`);
}
