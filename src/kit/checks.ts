/**
 * The static half of the conformance suite (src/kit/conformance.ts): checks that read a plugin
 * without running anything. Each returns a {@link CheckResult} naming its check, so a failing
 * plugin is told which promise it breaks: `schema`, `rule-safety`, `placeholders`, `env-names`.
 */
import { AuthsomeError } from "../core/errors.ts";
import type { AuthType, InjectionRule, ProviderPlugin } from "../core/plugin.ts";
import { validatePlugin } from "../core/plugin-schema.ts";
import { createPlaceholder, hasPlaceholder } from "../core/placeholder.ts";
import { loadRegexEngine } from "../core/rule-regex.ts";
import { parseHostRule } from "../core/rules.ts";

/** The checks, in the order they run. */
export const CHECK_NAMES = ["schema", "rule-safety", "placeholders", "env-names", "login", "injection"] as const;

/** One conformance check. */
export type CheckName = (typeof CHECK_NAMES)[number];

/** The outcome of one check: `ok` false is a failure; `skipped` says it could not run. */
export interface CheckResult {
  check: CheckName;
  ok: boolean;
  skipped?: boolean;
  /** What was checked, or what is wrong (with the field), in one line. */
  message: string;
}

/** A result helper. @internal */
export function result(check: CheckName, ok: boolean, message: string, skipped = false): CheckResult {
  return skipped ? { check, ok, skipped, message } : { check, ok, message };
}

// Field errors on a host rule are rule-safety findings, whichever dialect named the field.
const HOST_FIELD = /field "(?:inject\[\d+\]\.host|host_url(?:\[\d+\])?|api_url(?:\[\d+\])?)"/;

/**
 * The `schema` and `rule-safety` results for a load that threw: a plugin_invalid error on a
 * host field fails rule-safety (schema passes as far as it got), any other fails schema.
 */
export function loadFailure(error: unknown): CheckResult[] {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof AuthsomeError && error.code === "plugin_invalid" && HOST_FIELD.test(message)) {
    return [result("schema", true, "fields and types valid (up to the refused host rule)"), result("rule-safety", false, message)];
  }
  return [result("schema", false, message), result("rule-safety", false, "not checked: the plugin did not load", true)];
}

/** Validates a plugin object (a module's default export) as the registry does. */
export async function validateCandidate(input: unknown, source: string): Promise<ProviderPlugin> {
  await loadRegexEngine();
  // A module's sign hook is stored as its source text, as the plugin sandbox hands it back.
  if (typeof input === "object" && input !== null && "sign" in input && typeof input.sign === "function") {
    return validatePlugin({ ...input, sign: { source: input.sign.toString() } }, source);
  }
  return validatePlugin(input, source);
}

/** `schema` and `rule-safety` for a plugin that loaded (every host rule re-parsed). */
export function loadedChecks(plugin: ProviderPlugin): CheckResult[] {
  for (const [i, rule] of plugin.inject.entries()) {
    try {
      parseHostRule(rule.host);
    } catch (error) {
      return [result("schema", true, "fields and types valid"), result("rule-safety", false, `field "inject[${i}].host": ${error instanceof Error ? error.message : String(error)}`)];
    }
  }
  const hosts = plugin.inject.length === 0 ? "no injection rules" : `${plugin.inject.length} host rule(s), none broader than the provider's own hosts`;
  return [result("schema", true, "fields and types valid"), result("rule-safety", true, hosts)];
}

/** The credential fields a connection of each auth type holds after a login (`token` included). */
const FIELDS_OF: Partial<Record<AuthType, readonly string[]>> = {
  api_key: ["token", "api_key", "base_url"],
  basic: ["token", "api_key", "base_url"],
  oauth2: ["token", "access_token", "id_token", "client_id", "base_url"],
  aws_sigv4: ["access_key_id", "secret_access_key", "session_token", "base_url"],
};

const DEFAULT_FORMAT: Record<NonNullable<InjectionRule["in"]>, string> = { header: "Bearer {token}", query: "{token}", basic: "{username}:{password}", path: "{token}" };

/**
 * `placeholders`: every `{field}` in a rule's format is one a login of this auth type fills
 * (else the rule injects an empty value), and the per-run placeholder (`authsome run`'s
 * `OPENAI_API_KEY=...`) matches `apiKey.pattern`, so an SDK checking the key's shape starts.
 */
export async function placeholderCheck(plugin: ProviderPlugin): Promise<CheckResult> {
  const fields = FIELDS_OF[plugin.authType];
  if (fields !== undefined && plugin.authType !== "aws_sigv4") {
    for (const [i, rule] of plugin.inject.entries()) {
      const format = rule.format ?? DEFAULT_FORMAT[rule.in ?? "header"];
      for (const [, name = ""] of format.matchAll(/\{([^{}]*)\}/g)) {
        if (name === "refresh_token") return result("placeholders", false, `field "inject[${i}].format": {refresh_token} would send the refresh token to an API`);
        if (!fields.includes(name.replace(/\.[01]$/, ""))) return result("placeholders", false, `field "inject[${i}].format": {${name}} is never set for authType "${plugin.authType}" (it has ${fields.map((f) => `{${f}}`).join(", ")})`);
      }
    }
  }
  const pattern = plugin.apiKey?.pattern;
  if (hasPlaceholder(plugin) && pattern !== undefined) {
    const { checkApiKey } = await import("../core/api-key.ts");
    const placeholder = createPlaceholder(plugin);
    if (checkApiKey(plugin, placeholder) !== null) {
      return result("placeholders", false, `field "apiKey.pattern": the run placeholder does not match it (keep to literals, classes with counts and (a|b) choices; see src/core/placeholder.ts)`);
    }
  }
  return result("placeholders", true, "every format placeholder is filled by a login; the run placeholder matches the key pattern");
}

/** Variables authsome sets or reads itself for a run's child: a plugin must not map them. */
const RESERVED_ENV = new Set([
  "PATH", "HOME", "USER", "SHELL", "TMPDIR", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "SSL_CERT_FILE",
  "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "NODE_EXTRA_CA_CERTS", "GIT_SSL_CAINFO", "DENO_CERT", "NODE_OPTIONS",
  "GRPC_DEFAULT_SSL_ROOTS_FILE_PATH",
]);
const UPPER_SNAKE = /^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*$/;

/**
 * `env-names`: UPPER_SNAKE (so no two differ only by case, as Windows would read them), none of
 * authsome's own, each mapped to a field a login fills, and none mapped by another provider of
 * `others` (the bundled catalogue: a run's child would get only one of the two).
 */
export function envNamesCheck(plugin: ProviderPlugin, others: readonly ProviderPlugin[] = []): CheckResult {
  const fields = FIELDS_OF[plugin.authType];
  for (const [name, field] of Object.entries(plugin.env ?? {})) {
    const path = `field "env.${name}"`;
    if (!UPPER_SNAKE.test(name)) return result("env-names", false, `${path}: not UPPER_SNAKE_CASE (e.g. ${name.toUpperCase().replace(/[^A-Z0-9]+/g, "_")})`);
    if (RESERVED_ENV.has(name) || name.startsWith("AUTHSOME_")) return result("env-names", false, `${path}: authsome sets or reads ${name} itself for a run's child`);
    if (fields !== undefined && !fields.includes(field)) return result("env-names", false, `${path}: "${field}" is never set for authType "${plugin.authType}"`);
    const owner = others.find((o) => o.name !== plugin.name && Object.hasOwn(o.env ?? {}, name));
    if (owner !== undefined) return result("env-names", false, `${path}: the bundled provider "${owner.name}" maps ${name} too (a run's child would get only one of them)`);
  }
  const count = Object.keys(plugin.env ?? {}).length;
  return result("env-names", true, count === 0 ? "no env mapping (export uses the default name)" : `${count} name(s), UPPER_SNAKE, none reserved or mapped by another provider`);
}

/** One env name mapped by more than one provider of a catalogue. */
export interface EnvCollision {
  name: string;
  providers: string[];
}

/** Env names several plugins of one catalogue map (a run's child would get only one of them). */
export function envCollisions(plugins: readonly ProviderPlugin[]): EnvCollision[] {
  const owners = new Map<string, string[]>();
  for (const plugin of plugins) {
    for (const name of Object.keys(plugin.env ?? {})) owners.set(name, [...(owners.get(name) ?? []), plugin.name]);
  }
  return [...owners].filter(([, providers]) => providers.length > 1).map(([name, providers]) => ({ name, providers })).sort((a, b) => a.name.localeCompare(b.name));
}

