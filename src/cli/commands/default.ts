import { defineCommand } from "../command.ts";

export default defineCommand({
  name: "default",
  summary: "Make a connection the provider's default (used by get, export and the proxy).",
  args: ["<provider>", "<connection>"],
  async run({ args, api, out }) {
    const view = await api.call("setDefault", { provider: args[0], connection: args[1] });
    out.data(view, () => "");
    out.info(`${view.provider}: default connection is now "${view.connection}".`);
  },
});
