import { defineCommand } from "../command.ts";

export default defineCommand({
  name: "logout",
  summary: "Remove local connection records. The provider is not contacted (see `revoke`).",
  args: ["<provider>"],
  options: {
    connection: { type: "string", short: "c", value: "NAME", kind: "connection", description: "connection to remove (default: the provider's default)" },
    all: { type: "boolean", description: "remove every connection of the provider" },
  },
  async run({ args, options, api, out }) {
    const result = await api.call("logout", { provider: args[0], connection: options.connection, all: options.all });
    out.data(result, () => "");
    out.info(result.removed.length === 0 ? `No connections of ${result.provider} to remove.` : `Removed ${result.provider}: ${result.removed.join(", ")}.`);
  },
});
