import type { ProviderView } from "../../core/views.ts";
import { defineCommand } from "../command.ts";
import { formatProviders } from "../format.ts";

export default defineCommand({
  name: "list",
  summary: "List every provider (bundled and installed) with its connections and their status.",
  options: { connected: { type: "boolean", description: "only providers with at least one connection" } },
  async run({ options, api, out }) {
    const result = await api.get<{ providers: ProviderView[]; errors: { source: string; message: string }[] }>("/v1/providers");
    const providers = options["connected"] === true ? result.providers.filter((p) => p.connections.length > 0) : result.providers;
    out.data({ providers, errors: result.errors }, () => formatProviders(providers, out));
    for (const error of result.errors) out.warn(`plugin refused: ${error.message}`);
  },
});
