import { defineCommand } from "../command.ts";

const list = defineCommand({
  name: "providers list",
  summary: "List bundled and installed provider plugins (and any refused plugin files).",
  async run({ api, out }) {
    const result = await api.call("listProviders", {});
    const rows = result.providers.map((p) => ({ name: p.name, display_name: p.display_name, auth_type: p.auth_type, flows: p.flows, source: p.source }));
    out.data({ providers: rows, errors: result.errors }, () => rows.map((p) => `${p.name.padEnd(18)} ${p.auth_type.padEnd(8)} ${p.source.padEnd(10)} ${p.display_name}`).join("\n"));
    for (const error of result.errors) out.warn(`plugin refused: ${error.message}`);
  },
});

const add = defineCommand({
  name: "providers add",
  summary: "Install a provider plugin from a .json file, a .ts/.js module, or an npm package.",
  args: ["<source>"],
  options: { force: { type: "boolean", short: "f", description: "replace a provider of the same name" } },
  examples: ["authsome providers add ./my-provider.json", "authsome providers add authsome-plugin-acme"],
  async run({ args, options, api, out }) {
    const result = await api.call("installProvider", { source: args[0], force: options.force });
    out.data(result, () => "");
    out.info(`Installed provider "${result.installed}". Log in with: authsome login ${result.installed}`);
  },
});

const remove = defineCommand({
  name: "providers remove",
  summary: "Remove an installed provider plugin (its connections stay until logout).",
  args: ["<provider>"],
  async run({ args, api, out }) {
    await api.call("removeProvider", { provider: args[0] });
    out.data({ removed: args[0] }, () => "");
    out.info(`Removed provider "${args[0]}".`);
  },
});

export default defineCommand({
  name: "providers",
  summary: "Provider plugins: bundled ones, and third-party ones installed into this home.",
  subcommands: { list, add, remove },
});
