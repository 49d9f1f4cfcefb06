/**
 * Human-readable renderings of API views (the `--json` output is the views themselves).
 */
import type { ConnectionView, ProviderView } from "../core/views.ts";
import type { Output } from "./output.ts";

function expiry(view: ConnectionView): string {
  if (view.expires_at === null) return "";
  const seconds = Math.round((Date.parse(view.expires_at) - Date.now()) / 1000);
  if (seconds <= 0) return "expired";
  return seconds < 3600 ? `expires in ${Math.ceil(seconds / 60)} min` : `expires ${view.expires_at}`;
}

function status(view: ConnectionView, out: Output): string {
  return view.status === "connected" ? out.paint("green", view.status) : out.paint("yellow", view.status);
}

/** One connection record as aligned `key  value` lines. */
export function formatConnection(view: ConnectionView, out: Output): string {
  const rows: [string, string][] = [
    ["provider", view.provider],
    ["connection", `${view.connection}${view.is_default ? " (default)" : ""}`],
    ["auth type", view.auth_type],
    ["flow", view.flow],
    ["status", status(view, out)],
    ["expires at", view.expires_at ?? "-"],
    ["scopes", view.scopes.join(" ") || "-"],
    ["created", view.created_at],
    ["updated", view.updated_at],
  ];
  if (view.base_url !== undefined) rows.push(["base url", view.base_url]);
  if (view.status_reason !== undefined) rows.push(["reason", view.status_reason]);
  for (const [field, value] of Object.entries(view.secrets ?? {})) rows.push([field, value]);
  return rows.map(([k, val]) => `${out.paint("dim", k.padEnd(12))} ${val}`).join("\n");
}

/** Providers with their connections, one block per provider with connections first. */
export function formatProviders(providers: ProviderView[], out: Output): string {
  const connected = providers.filter((p) => p.connections.length > 0);
  const others = providers.filter((p) => p.connections.length === 0);
  const lines: string[] = [];
  for (const p of connected) {
    lines.push(`${out.paint("bold", p.name)} ${out.paint("dim", `(${p.display_name}, ${p.auth_type})`)}`);
    for (const c of p.connections) {
      lines.push(`  ${c.is_default ? "*" : " "} ${c.connection.padEnd(16)} ${status(c, out)} ${out.paint("dim", expiry(c))}`.trimEnd());
    }
  }
  if (others.length > 0) {
    if (lines.length > 0) lines.push("");
    lines.push(out.paint("dim", `Not connected: ${others.map((p) => p.name).join(", ")}`));
  }
  return lines.join("\n");
}
