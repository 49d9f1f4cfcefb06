import { defineCommand } from "../command.ts";
import { formatProviders } from "../format.ts";

export default defineCommand({
  name: "inspect",
  summary: "Show a provider's definition (endpoints, injection rules, env mapping) and every connection's status.",
  args: ["<provider>"],
  async run({ args, api, out }) {
    const view = await api.call("inspectProvider", { provider: args[0] });
    out.data(view, () => `${formatProviders([view], out)}\nDefinition:\n${JSON.stringify(view.definition, null, 2)}`);
  },
});
