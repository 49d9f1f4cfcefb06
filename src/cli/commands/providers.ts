import { defineCommand } from "../command.ts";

const list = defineCommand({
  name: "providers list",
  summary: "List bundled, installed and shared (Redis store) provider plugins, and any refused plugin.",
  async run({ api, out }) {
    const result = await api.call("listProviders", {});
    const rows = result.providers.map((p) => ({ name: p.name, display_name: p.display_name, auth_type: p.auth_type, flows: p.flows, source: p.source }));
    out.data({ providers: rows, errors: result.errors }, () => rows.map((p) => `${p.name.padEnd(18)} ${p.auth_type.padEnd(8)} ${p.source.padEnd(10)} ${p.display_name}`).join("\n"));
    for (const error of result.errors) out.warn(`plugin refused: ${error.message}`);
  },
});

const add = defineCommand({
  name: "providers add",
  summary: "Install a provider plugin from a .json/.jsonc file, a .ts/.js module, or an npm package (into the store, for every machine, when the store is Redis).",
  args: ["<source>"],
  options: { force: { type: "boolean", short: "f", description: "replace a provider of the same name" } },
  examples: ["authsome providers add ./my-provider.json", "authsome providers add ./github.jsonc", "authsome providers add acme   # npm: authsome-plugin-acme, then acme", "authsome providers add ./authsome-plugin-acme-1.0.0.tgz"],
  async run({ args, options, api, out }) {
    const result = await api.call("installProvider", { source: args[0], force: options.force });
    out.data(result, () => "");
    out.info(`Installed provider "${result.installed}". Log in with: authsome login ${result.installed}`);
  },
});

const remove = defineCommand({
  name: "providers remove",
  summary: "Remove an installed provider plugin, fleet-wide with a Redis store (its connections stay until logout).",
  args: ["<provider>"],
  async run({ args, api, out }) {
    await api.call("removeProvider", { provider: args[0] });
    out.data({ removed: args[0] }, () => "");
    out.info(`Removed provider "${args[0]}".`);
  },
});

const init = defineCommand({
  name: "providers init",
  summary: "Write NAME.ts (a TypeScript plugin to edit) and NAME.test.ts (runs the conformance suite on it).",
  args: ["<name>"],
  options: {
    dir: { type: "string", value: "DIR", description: "where to write the files (default: the current directory)" },
    force: { type: "boolean", short: "f", description: "overwrite existing files" },
  },
  examples: ["authsome providers init acme && authsome providers test ./acme.ts"],
  async run({ args, options, out }) {
    const { initPlugin } = await import("../../kit/templates.ts");
    const files = await initPlugin(args[0], options.dir ?? ".", options.force);
    out.data(files, () => `${files.plugin}\n${files.test}`);
    out.info(`Edit ${files.plugin}, then check it with: authsome providers test ${files.plugin}`);
  },
});

const test = defineCommand({
  name: "providers test",
  summary: "Run the conformance suite (schema, rule safety, placeholders, env names, login, injection) on a plugin file or npm package.",
  args: ["<source>"],
  options: { static: { type: "boolean", description: "only the checks that run nothing (no login, no request)" } },
  examples: ["authsome providers test ./acme.ts", "authsome providers test authsome-plugin-acme --json"],
  async run({ args, options, out }) {
    // The suite runs here, in a throw-away home: it never touches this home or its daemon.
    const { formatReport, testPluginSource } = await import("../../kit/conformance.ts");
    const report = await testPluginSource(args[0], { live: !options.static });
    out.data(report, () => formatReport(report));
    return report.ok ? 0 : 1;
  },
});

export default defineCommand({
  name: "providers",
  summary: "Provider plugins: bundled ones, third-party ones installed into this home, and the kit to write one.",
  subcommands: { list, add, remove, init, test },
});
