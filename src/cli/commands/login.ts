import * as v from "valibot";
import { AuthsomeError } from "../../core/errors.ts";
import { defineCommand } from "../command.ts";

const FLOWS = ["pkce", "device_code", "client_credentials", "dcr_pkce", "api_key"] as const;

export default defineCommand({
  name: "login",
  summary: "Log in to a provider (OAuth2 or API key) and store the connection encrypted.",
  args: ["<provider>"],
  options: {
    connection: { type: "string", short: "c", value: "NAME", kind: "connection", description: "connection name (default: default)" },
    flow: { type: "string", value: "FLOW", description: `login flow: ${FLOWS.join(", ")}` },
    scopes: { type: "string", value: "A,B", description: "scopes to request (comma-separated)" },
    "base-url": { type: "string", value: "URL", description: "provider base URL (self-hosted instances)" },
    "client-id": { type: "string", value: "ID", description: "OAuth client id, remembered per provider (the secret comes from the vault, stdin or a form, never argv)" },
    force: { type: "boolean", short: "f", description: "replace an existing connection and make it the default" },
    "no-browser": { type: "boolean", description: "do not open a browser: print the URL, and ask for keys and secrets at the terminal" },
    timeout: { type: "string", value: "SECONDS", description: "how long to wait for the browser, form or prompt (default 300)" },
    "redirect-port": { type: "string", value: "PORT", description: "port of the OAuth callback on 127.0.0.1 (default 7999; must match the app's redirect URI)" },
    name: { type: "string", value: "NAME", description: "MCP login (a URL): the provider name to store the server under (default: from its host)" },
    "client-metadata-url": { type: "string", value: "URL", description: "MCP login: your own client metadata document (https) instead of authsome's" },
  },
  examples: [
    "printf '%s' \"$OPENAI_KEY\" | authsome login openai      # key from stdin",
    "authsome login openai --connection work               # a local form, or a hidden prompt without a browser",
    "authsome login github --client-id Iv1.abc123          # browser + PKCE; secret from the form",
    "authsome login github --flow device_code --client-id Iv1.abc123   # SSH / no browser: a code to enter elsewhere",
    "printf '%s' \"$SECRET\" | authsome login my-api --client-id svc   # client credentials",
    "authsome login gitlab --base-url https://gitlab.example.com",
    "authsome login https://mcp.example.com/mcp            # an MCP server by URL: discovery, client identity, PKCE (docs/mcp.md)",
    "Redirect URI to register: http://127.0.0.1:7999/callback (--redirect-port or AUTHSOME_REDIRECT_PORT changes the port)",
  ],
  async run({ args, options, api, out }) {
    const flow = options.flow;
    if (flow !== undefined && !v.is(v.picklist(FLOWS), flow)) {
      throw new AuthsomeError("usage", `unknown flow "${String(flow).slice(0, 40)}"`, { hint: `use one of: ${FLOWS.join(", ")}` });
    }
    const timeout = options.timeout;
    const timeoutSeconds = timeout === undefined ? undefined : Number(timeout);
    if (timeoutSeconds !== undefined && !(Number.isInteger(timeoutSeconds) && timeoutSeconds > 0)) {
      throw new AuthsomeError("usage", "--timeout takes a whole number of seconds");
    }
    const portText = options["redirect-port"];
    const redirectPort = portText === undefined ? undefined : Number(portText);
    if (redirectPort !== undefined && !(Number.isInteger(redirectPort) && redirectPort > 0 && redirectPort < 65536)) {
      throw new AuthsomeError("usage", "--redirect-port takes a port number (1-65535)");
    }
    const scopes = options.scopes === undefined ? undefined : options.scopes.split(/[\s,]+/).filter(Boolean);
    if (/^https?:\/\//i.test(args[0])) {
      const { loginByUrl } = await import("./mcp.ts");
      return loginByUrl({ api, out, url: args[0], options, scopes, timeoutMs: timeoutSeconds === undefined ? undefined : timeoutSeconds * 1000, redirectPort });
    }
    const view = await api.call("login", {
      provider: args[0],
      connection: options.connection,
      flow,
      force: options.force,
      scopes,
      base_url: options["base-url"],
      client_id: options["client-id"],
      timeout_ms: timeoutSeconds === undefined ? undefined : timeoutSeconds * 1000,
      redirect_port: redirectPort,
    });
    out.data(view, () => "");
    out.info(`${out.paintMessage("green", "✓")} Logged in to ${view.provider} as connection "${view.connection}"${view.is_default ? " (default)" : ""}.`);
    if (view.auth_type === "oauth2") {
      const expiry = view.expires_at === null ? "does not expire" : `expires ${view.expires_at}${view.secrets?.["refresh_token"] === undefined && view.flow !== "client_credentials" ? " (no refresh token: log in again then)" : ", refreshed automatically"}`;
      out.info(`  scopes: ${view.scopes.join(" ") || "(none)"}; token ${expiry}`);
    }
  },
});
