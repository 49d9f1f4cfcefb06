/**
 * Where a service instance lives: the home directory, the profile, the storage spec and the
 * master-key source, resolved from options first and the environment second.
 */
import { join, resolve } from "node:path";
import * as v from "valibot";
import { AuthsomeError } from "./errors.ts";
import { ensureHome } from "./files.ts";
import { getEnv, userHome } from "../runtime/index.ts";

/** Profile and connection names: safe as storage key segments and file names. */
export const NAME_PATTERN = /^[a-z0-9][a-z0-9_.-]{0,63}$/i;

/** Options accepted by `createAuthService()`; every field falls back to the environment. */
export interface ServiceOptions {
  /** `AUTHSOME_HOME`, default `~/.authsome`. */
  home?: string;
  /** `AUTHSOME_PROFILE`, default `default`. */
  profile?: string;
  /** `AUTHSOME_STORAGE`: `fs` (default), `fs:/path`, `memory`, `redis://...`. */
  storage?: string;
  /** Base64 or hex 256-bit master key (`AUTHSOME_MASTER_KEY`); default `<home>/master.key`. */
  masterKey?: string;
  /** Passphrase protecting `master.key` (`AUTHSOME_PASSPHRASE`); used when the home is created. */
  passphrase?: string;
  /**
   * Without a passphrase, ask for it at the terminal (hidden, three tries) when `master.key` is
   * protected and stdin is a terminal. The CLI sets it; default false (libraries never prompt).
   */
  askPassphrase?: boolean;
  /** Who is acting, for the audit log (e.g. `cli:get`). */
  actor?: string;
  /** Seconds before expiry at which tokens are refreshed (`AUTHSOME_REFRESH_MARGIN`, default 60). */
  refreshMarginSeconds?: number;
}

/** The resolved context. */
export interface ServiceContext {
  home: string;
  profile: string;
  storageSpec: string | undefined;
  masterKey: string | undefined;
  passphrase: string | undefined;
  askPassphrase: boolean;
  actor: string;
  refreshMarginSeconds: number;
}

/** Validates a profile or connection name, naming which one is bad. */
export function checkName(kind: "profile" | "connection", name: string): string {
  if (!NAME_PATTERN.test(name)) {
    throw new AuthsomeError("usage", `invalid ${kind} name "${name.slice(0, 64)}"`, {
      hint: "use letters, digits, '.', '_' or '-' (at most 64, starting with a letter or digit)",
    });
  }
  return name;
}

const MarginSchema = v.pipe(v.string(), v.toNumber(), v.integer(), v.minValue(0), v.maxValue(86_400));

/** Resolves options and environment into a context. */
export function resolveContext(options: ServiceOptions = {}): ServiceContext {
  const home = resolve(options.home ?? getEnv("AUTHSOME_HOME") ?? join(userHome(), ".authsome"));
  // Created (bounded) or refused here, in one line: not a hang or an "unexpected failure" later.
  ensureHome(home);
  const profile = checkName("profile", options.profile ?? getEnv("AUTHSOME_PROFILE") ?? "default");
  const marginText = getEnv("AUTHSOME_REFRESH_MARGIN");
  let refreshMarginSeconds = options.refreshMarginSeconds ?? 60;
  if (options.refreshMarginSeconds === undefined && marginText !== undefined) {
    const parsed = v.safeParse(MarginSchema, marginText);
    if (!parsed.success) {
      throw new AuthsomeError("usage", "AUTHSOME_REFRESH_MARGIN must be a whole number of seconds (0-86400)");
    }
    refreshMarginSeconds = parsed.output;
  }
  return {
    home,
    profile,
    storageSpec: options.storage ?? getEnv("AUTHSOME_STORAGE"),
    masterKey: options.masterKey ?? getEnv("AUTHSOME_MASTER_KEY"),
    passphrase: options.passphrase ?? getEnv("AUTHSOME_PASSPHRASE"),
    askPassphrase: options.askPassphrase === true,
    actor: options.actor ?? `lib:${process.pid}`,
    refreshMarginSeconds,
  };
}
