import { defineCommand } from "../command.ts";

const LABEL = { refresh_token: "refresh token", access_token: "access token" } as const;

export default defineCommand({
  name: "revoke",
  summary: "Revoke tokens at the provider (RFC 7009, where it has an endpoint), then remove the local records. Without --connection: every connection and the saved OAuth client.",
  args: ["<provider>"],
  options: {
    connection: { type: "string", short: "c", value: "NAME", kind: "connection", description: "revoke only this connection (keeps the saved client)" },
  },
  examples: ["authsome revoke github                    # all connections + saved client", "authsome revoke google --connection work"],
  async run({ args, options, api, out }) {
    const report = await api.call("revoke", { provider: args[0], connection: options.connection });
    out.data(report, () => "");
    for (const token of report.tokens) {
      const what = `${report.provider}/${token.connection} ${LABEL[token.token]}`;
      if (token.outcome === "revoked") out.info(`${out.paintMessage("green", "✓")} Revoked the ${what} at the provider.`);
      else if (token.outcome === "failed") out.warn(`the provider did not revoke the ${what}: ${token.message ?? "unknown error"}. It was removed locally anyway; revoke access in the provider's settings to be sure.`);
    }
    if (report.tokens.some((token) => token.outcome === "unsupported")) {
      out.warn(`${report.provider} has no revocation endpoint: its tokens stay valid until they expire. Revoke access in the provider's settings.`);
    }
    const removed = report.removed.length === 0 ? "no connections" : `connection${report.removed.length > 1 ? "s" : ""} ${report.removed.join(", ")}`;
    out.info(`Removed ${report.provider}: ${removed}${report.client_removed ? " and the saved OAuth client" : ""}.`);
  },
});
