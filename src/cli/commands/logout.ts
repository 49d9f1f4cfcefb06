import { defineCommand } from "../command.ts";

export default defineCommand({
  name: "logout",
  summary: "Remove local connection records. The provider is not contacted (see `revoke`).",
  args: ["<provider>"],
  options: {
    connection: { type: "string", short: "c", value: "NAME", description: "connection to remove (default: the provider's default)" },
    all: { type: "boolean", description: "remove every connection of the provider" },
  },
  async run({ args, options, api, out }) {
    const result = await api.post<{ provider: string; removed: string[] }>(`/v1/providers/${encodeURIComponent(args[0] ?? "")}/logout`, {
      connection: options["connection"],
      all: options["all"] === true,
    });
    out.data(result, () => "");
    out.info(result.removed.length === 0 ? `No connections of ${result.provider} to remove.` : `Removed ${result.provider}: ${result.removed.join(", ")}.`);
  },
});
