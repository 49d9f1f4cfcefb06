import { AuthsomeError } from "../../core/errors.ts";
import { SECRET_FIELDS } from "../../core/records.ts";
import type { ConnectionView } from "../../core/views.ts";
import { defineCommand } from "../command.ts";
import { formatConnection } from "../format.ts";
import { shown } from "../parse.ts";

/** The record's own fields, secrets included (never inherited names like `constructor`). */
function fieldsOf(view: ConnectionView): Map<string, unknown> {
  const fields = new Map<string, unknown>(Object.entries(view).filter(([name]) => name !== "secrets"));
  for (const [name, value] of Object.entries(view.secrets ?? {})) fields.set(name, value);
  return fields;
}

/** One field's value as a line: lists comma-joined, null empty, objects as JSON. */
function fieldText(value: unknown): string {
  if (Array.isArray(value)) return value.join(",");
  if (value === null || value === undefined) return "";
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

export default defineCommand({
  name: "get",
  summary: "Show a connection record; secrets are redacted unless --show-secret. Refreshes expiring tokens first.",
  args: ["<provider>"],
  options: {
    connection: { type: "string", short: "c", value: "NAME", kind: "connection", description: "connection (default: the provider's default)" },
    field: { type: "string", value: "FIELD", description: "print one value alone (e.g. status, expires_at, api_key, access_token)" },
    "show-secret": { type: "boolean", description: "include secret values" },
  },
  examples: ["authsome get openai", "authsome get openai --connection work --field api_key --show-secret"],
  async run({ args, options, api, out }) {
    const field = options.field;
    const show = options["show-secret"];
    if (field !== undefined && (SECRET_FIELDS as readonly string[]).includes(field) && !show) {
      throw new AuthsomeError("usage", `${field} is a secret`, { hint: "add --show-secret to print it" });
    }
    const view = await api.call("getConnection", { provider: args[0], connection: options.connection, show_secret: show });
    if (field === undefined) {
      out.data(view, () => formatConnection(view, out));
      return;
    }
    const fields = fieldsOf(view);
    if (!fields.has(field)) {
      throw new AuthsomeError("usage", `${view.provider}/${view.connection} has no field ${shown(field)}`, { hint: `fields: ${[...fields.keys()].join(", ")}` });
    }
    const value = fields.get(field);
    out.data({ [field]: value }, () => fieldText(value));
  },
});
