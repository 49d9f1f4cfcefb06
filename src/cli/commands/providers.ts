import type { ProviderPlugin } from "../../core/plugin.ts";
import type { ProviderView } from "../../core/views.ts";
import { defineCommand } from "../command.ts";

const list = defineCommand({
  name: "providers list",
  summary: "List bundled and installed provider plugins (and any refused plugin files).",
  async run({ api, out }) {
    const result = await api.get<{ providers: ProviderView[]; errors: { source: string; message: string }[] }>("/v1/providers");
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
    const result = await api.post<{ installed: string; provider: ProviderPlugin }>("/v1/providers", { source: args[0], force: options["force"] === true });
    out.data(result, () => "");
    out.info(`Installed provider "${result.installed}". Log in with: authsome login ${result.installed}`);
  },
});

const remove = defineCommand({
  name: "providers remove",
  summary: "Remove an installed provider plugin (its connections stay until logout).",
  args: ["<name>"],
  async run({ args, api, out }) {
    await api.delete(`/v1/providers/${encodeURIComponent(args[0] ?? "")}`);
    out.data({ removed: args[0] }, () => "");
    out.info(`Removed provider "${args[0]}".`);
  },
});

export default defineCommand({
  name: "providers",
  summary: "Provider plugins: bundled ones, and third-party ones installed into this home.",
  subcommands: { list, add, remove },
});
