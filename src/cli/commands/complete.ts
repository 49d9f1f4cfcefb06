import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import type { AuthService } from "../../core/auth-service.ts";
import { getEnv, userHome } from "../../runtime/index.ts";
import { writeStdio } from "../../runtime/stdio.ts";
import { defineCommand } from "../command.ts";
import { completionCandidates, type NameSource } from "../complete.ts";

/** Names from the home; a home that does not exist yet is not created (bundled providers only). */
function homeSource(profile: string | undefined): NameSource & { close(): Promise<void> } {
  let service: Promise<AuthService | undefined> | undefined;
  const open = () =>
    (service ??= (async () => {
      const home = resolve(getEnv("AUTHSOME_HOME") ?? join(userHome(), ".authsome"));
      if (!existsSync(home)) return undefined;
      const { createAuthService } = await import("../../core/auth-service.ts");
      return createAuthService({ actor: "cli:complete", ...(profile === undefined ? {} : { profile }) });
    })());
  return {
    async names(kind, provider) {
      const found = await open();
      if (kind === "provider") return found === undefined ? Object.keys((await import("../../../plugins/index.ts")).bundledPlugins) : found.core.registry.names();
      if (found === undefined) return [];
      if (kind === "profile") return (await found.listProfiles()).map((p) => p.name);
      const { providers } = await found.listProviders();
      return providers.filter((p) => provider === undefined || p.name === provider).flatMap((p) => p.connections.map((c) => c.connection));
    },
    close: async () => (await service)?.close(),
  };
}

export default defineCommand({
  name: "__complete",
  summary: "Completion candidates for the words after `--`, one per line (used by the completion scripts).",
  args: ["-- <words...>"],
  hidden: true,
  async run({ rest, profile }) {
    const source = homeSource(profile);
    try {
      const candidates = await completionCandidates(rest, source);
      writeStdio(1, candidates.map((c) => `${c}\n`).join(""));
    } catch {
      // A completion never prints an error into the user's command line.
    } finally {
      await source.close().catch(() => {});
    }
  },
});
