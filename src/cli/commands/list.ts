import { defineCommand } from "../command.ts";
import { formatProviders } from "../format.ts";

export default defineCommand({
  name: "list",
  summary: "List every provider (bundled and installed) with its connections and their status.",
  options: { connected: { type: "boolean", description: "only providers with at least one connection" } },
  async run({ options, api, out }) {
    const result = await api.call("listProviders", {});
    const providers = options.connected ? result.providers.filter((p) => p.connections.length > 0) : result.providers;
    out.data({ providers, errors: result.errors, damaged: result.damaged }, () => formatProviders(providers, out));
    for (const error of result.errors) out.warn(`plugin refused: ${error.message}`);
    for (const record of result.damaged) out.warn(`damaged record: ${record.message}`);
  },
});
