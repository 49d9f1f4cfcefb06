import { defineCommand } from "../command.ts";

const create = defineCommand({
  name: "profile create",
  summary: "Create a profile: its own vault, key and audit log inside this home.",
  args: ["<profile>"],
  options: { description: { type: "string", short: "d", value: "TEXT", description: "what the profile is for" } },
  async run({ args, options, api, out }) {
    const view = await api.call("createProfile", { name: args[0], description: options.description });
    out.data(view, () => "");
    out.info(`Created profile "${view.name}". Use it with --profile ${view.name} or AUTHSOME_PROFILE=${view.name}.`);
  },
});

const list = defineCommand({
  name: "profile list",
  summary: "List the profiles of this home.",
  async run({ api, out }) {
    const { profiles } = await api.call("listProfiles", {});
    out.data({ profiles }, () => profiles.map((p) => `${p.current ? "*" : " "} ${p.name.padEnd(20)} ${p.description ?? ""}`.trimEnd()).join("\n"));
  },
});

const remove = defineCommand({
  name: "profile remove",
  summary: "Remove a profile and its vault (refused while it has connections, unless --force).",
  args: ["<profile>"],
  options: { force: { type: "boolean", short: "f", description: "remove even if it still holds connections" } },
  async run({ args, options, api, out }) {
    await api.call("removeProfile", { name: args[0], force: options.force });
    out.data({ removed: args[0] }, () => "");
    out.info(`Removed profile "${args[0]}".`);
  },
});

export default defineCommand({
  name: "profile",
  summary: "Named profiles: credential sets inside one home that never see each other.",
  subcommands: { create, list, remove },
});
