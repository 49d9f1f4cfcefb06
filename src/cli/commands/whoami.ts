import { defineCommand } from "../command.ts";

export default defineCommand({
  name: "whoami",
  summary: "Show the home, profile, storage and master-key source in use.",
  async run({ api, out }) {
    const info = await api.call("whoami", {});
    out.data(info, () => Object.entries(info).map(([k, val]) => `${k.padEnd(16)} ${val}`).join("\n"));
  },
});
