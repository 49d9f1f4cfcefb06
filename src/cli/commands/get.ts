import { AuthsomeError } from "../../core/errors.ts";
import { SECRET_FIELDS } from "../../core/records.ts";
import type { ConnectionView } from "../../core/views.ts";
import { defineCommand } from "../command.ts";
import { formatConnection } from "../format.ts";

export default defineCommand({
  name: "get",
  summary: "Show a connection record; secrets are redacted unless --show-secret. Refreshes expiring tokens first.",
  args: ["<provider>"],
  options: {
    connection: { type: "string", short: "c", value: "NAME", description: "connection (default: the provider's default)" },
    field: { type: "string", value: "FIELD", description: "print one value alone (e.g. status, expires_at, api_key, access_token)" },
    "show-secret": { type: "boolean", description: "include secret values" },
  },
  examples: ["authsome get openai", "authsome get openai --connection work --field api_key --show-secret"],
  async run({ args, options, api, out }) {
    const field = typeof options["field"] === "string" ? options["field"] : undefined;
    const show = options["show-secret"] === true;
    if (field !== undefined && (SECRET_FIELDS as readonly string[]).includes(field) && !show) {
      throw new AuthsomeError("usage", `${field} is a secret`, { hint: "add --show-secret to print it" });
    }
    const view = await api.get<ConnectionView>(`/v1/providers/${encodeURIComponent(args[0] ?? "")}/connection`, {
      connection: typeof options["connection"] === "string" ? options["connection"] : undefined,
      show_secret: show ? "1" : undefined,
    });
    if (field === undefined) {
      out.data(view, () => formatConnection(view, out));
      return;
    }
    const value = field in (view.secrets ?? {}) ? view.secrets?.[field] : (view as unknown as Record<string, unknown>)[field];
    if (value === undefined) throw new AuthsomeError("usage", `${view.provider}/${view.connection} has no field "${field.slice(0, 40)}"`, { hint: `fields: ${[...Object.keys(view).filter((k) => k !== "secrets"), ...Object.keys(view.secrets ?? {})].join(", ")}` });
    out.data({ [field]: value }, () => (Array.isArray(value) ? value.join(",") : String(value ?? "")));
  },
});
