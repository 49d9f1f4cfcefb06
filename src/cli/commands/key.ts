import { defineCommand } from "../command.ts";

const rotate = defineCommand({
  name: "key rotate",
  summary: "Make a new master key and re-wrap every profile's data key under it (crash-safe: run it again to finish an interrupted rotation).",
  options: {
    reencrypt: { type: "boolean", description: "also seal every record again under a new data key per profile" },
    to: { type: "string", value: "WHERE", choices: ["file", "keyring"], description: "where the new key goes (default: where the current one is)" },
  },
  examples: ["authsome key rotate", "authsome key rotate --reencrypt", "authsome key rotate --to keyring"],
  async run({ options, out, profile }) {
    // Not a /v1 operation: whoever holds the daemon's token must not be able to replace the
    // home's master key. The daemon itself must be stopped first (rotate.ts refuses otherwise).
    const [{ createServiceCore }, { rotateMasterKey }] = await Promise.all([import("../../core/service.ts"), import("../../core/rotate.ts")]);
    const core = createServiceCore({ actor: `cli:key:${process.pid}`, askPassphrase: true, ...(profile === undefined ? {} : { profile }) });
    const result = await rotateMasterKey(core, { ...(options.to === undefined ? {} : { to: options.to }), reencrypt: options.reencrypt });
    const resealed = result.profiles.reduce((sum, p) => sum + p.resealed, 0);
    out.data(result, () => "");
    out.info(`${result.resumed ? "Finished an interrupted rotation" : "Rotated the master key"}: ${result.profiles.length} profile(s) re-wrapped${options.reencrypt ? `, ${resealed} record(s) sealed under new data keys` : ""}; the key is now in ${result.key_source}.`);
  },
});

export default defineCommand({
  name: "key",
  summary: "The home's master key: rotation.",
  subcommands: { rotate },
});
