/**
 * authsome-v1 provider JSON (the Python authsome's format), converted to a native plugin with
 * the same meaning. v1 is detected by its `schema_version` key. Fields, as the Python models
 * and bundled files define them:
 *
 * - `name`, `display_name`, `auth_type` (`oauth2` | `api_key`), `flow` (`pkce` | `device_code` |
 *   `dcr_pkce` | `api_key`; older files say `api_key_prompt` / `api_key_env`), plus our
 *   extension `client_credentials` for machine-to-machine providers.
 * - `oauth`: `authorization_url`, `token_url`, `revocation_url`, `device_authorization_url`,
 *   `registration_endpoint`, `base_url` (the `{base_url}` default), `scopes`, `pkce`,
 *   `supports_device_code` (older: `supports_device_flow`), `supports_dcr`; extension:
 *   `token_endpoint_auth_method`; `device_token_request` (`"json"`: token polls as JSON, as
 *   the Python flow sends them). `registration.registration_endpoint` is the newer DCR spot.
 * - `api_key`: `header_name` (default `Authorization`), `header_prefix` (default `Bearer`; empty
 *   or null = the bare key), `key_pattern` (Python `re.fullmatch`), `key_pattern_hint`, `env_var`.
 * - `host_url` (newer files: `api_url`): a host, a URL (host + path prefix), `regex:<pattern>`
 *   (full match, case-insensitive), or a list of those. No scheme = https only; `http://` also
 *   allows plain HTTP (design.md).
 * - `export`: `{"env": {"<field>": "ENV_NAME"}}`, or the newer flat `{"ENV_NAME": "ACCESS_TOKEN"}`
 *   (plugin-v1-export.ts: what each means, and the default name the token always gets).
 * - `.jsonc` files (the newer dialect, with comments) are parsed by plugin-jsonc.ts.
 * - Ignored: `client` (secrets never come from plugin files), `logo`, `description`, `type`,
 *   `metadata`, and any other unknown key, as the v1 spec requires, unless it looks like a typo
 *   of a known key.
 */
import * as v from "valibot";
import type { FlowName, InjectionRule, OAuthConfig, ProviderPlugin } from "./plugin.ts";
import { editDistance, objectOnly, pluginError, validatePlugin } from "./plugin-schema.ts";
import { envOfV1, ExportV1Schema } from "./plugin-v1-export.ts";

const Str = v.string();
const NullableStr = v.nullish(Str);
// An empty list would give a provider that never injects: omit the field for that.
const Hosts = v.nullish(v.union(
  [Str, v.pipe(v.array(Str), v.nonEmpty("must list at least one host (omit the field for none)"))],
  "expected a host or a list of hosts (strings)",
));
const OAuthV1 = v.looseObject({
  authorization_url: NullableStr,
  token_url: NullableStr,
  revocation_url: NullableStr,
  device_authorization_url: NullableStr,
  registration_endpoint: NullableStr,
  base_url: NullableStr,
  scopes: v.nullish(v.array(Str)),
  pkce: v.nullish(v.boolean()),
  supports_device_code: v.nullish(v.boolean()),
  supports_device_flow: v.nullish(v.boolean()),
  supports_dcr: v.nullish(v.boolean()),
  token_endpoint_auth_method: v.nullish(v.picklist(["client_secret_basic", "client_secret_post"])),
  // Python: "json" sends each token poll as JSON {"device_code"}; any other value, the RFC's form.
  device_token_request: NullableStr,
});

const ApiKeyV1 = v.looseObject({
  header_name: NullableStr,
  header_prefix: NullableStr,
  key_pattern: NullableStr,
  key_pattern_hint: NullableStr,
  env_var: NullableStr,
});

const V1Schema = v.looseObject({
  schema_version: v.literal(1),
  name: Str,
  display_name: Str,
  auth_type: v.picklist(["oauth2", "api_key"]),
  flow: v.picklist(["pkce", "device_code", "dcr_pkce", "api_key", "client_credentials", "api_key_prompt", "api_key_env"]),
  oauth: v.nullish(objectOnly(OAuthV1)),
  registration: v.nullish(objectOnly(v.looseObject({ registration_endpoint: NullableStr }))),
  api_key: v.nullish(objectOnly(ApiKeyV1)),
  export: v.nullish(ExportV1Schema),
  host_url: Hosts,
  api_url: Hosts,
  docs: NullableStr,
  docs_url: NullableStr,
});

type V1 = v.InferOutput<typeof V1Schema>;

// Known but unused v1 keys: accepted silently, and never reported as typos.
const IGNORED_KEYS = ["client", "logo", "description", "type", "metadata", "input_mode"];

/** True when parsed JSON looks like an authsome-v1 provider file. */
export function isV1(json: unknown): boolean {
  return typeof json === "object" && json !== null && Object.hasOwn(json, "schema_version");
}

/** Converts an authsome-v1 provider file to a validated native plugin. */
export function fromV1(json: unknown, source: string): ProviderPlugin {
  const result = v.safeParse(objectOnly(V1Schema), json);
  if (!result.success) {
    const [issue] = result.issues;
    throw pluginError(source, v1Path(issue), v1Problem(issue));
  }
  const v1 = result.output;
  rejectTypos(v1, source);
  // Both set: one would be dropped without a word.
  if (v1.api_url != null && v1.host_url != null) throw pluginError(source, "api_url", "use host_url or api_url, not both");
  const hostField = v1.api_url != null ? "api_url" : "host_url";
  const list = Array.isArray(v1.api_url ?? v1.host_url);
  return validatePlugin(convert(v1, source), source, { fieldName: (path) => v1FieldName(path, hostField, list) });
}

/** `host_url[0]`, `export.env.x`: the failing field as the v1 file spells it. */
function v1Path(issue: v.BaseIssue<unknown>): string {
  return (issue.path ?? []).reduce((out, p) =>
    typeof p.key === "number" ? `${out}[${p.key}]` : out === "" ? String(p.key) : `${out}.${String(p.key)}`, "");
}

function v1Problem(issue: v.BaseIssue<unknown>): string {
  if (issue.received === "undefined") return "required";
  const received = issue.received === "Array" ? "an array" : issue.received;
  // "got Object" would say nothing for an object whose values are wrong.
  if (issue.type === "custom" || issue.type === "union") return issue.received === "Object" ? issue.message : `${issue.message}, got ${received}`;
  if (issue.type === "picklist") return `must be one of ${(issue.expected ?? "").replace(/^\((.*)\)$/, "$1")}`;
  if (issue.kind === "schema") return `expected ${issue.expected ?? "a different type"}, got ${received}`;
  return issue.message;
}

/** Native field paths -> the v1 fields they came from, so errors point into the v1 file. */
const V1_FIELDS: [RegExp, string][] = [
  [/^displayName/, "display_name"],
  [/^authType/, "auth_type"],
  [/^flows(\[\d+\])?/, "flow"],
  [/^baseUrl/, "oauth.base_url"],
  [/^oauth\.authorizationUrl/, "oauth.authorization_url"],
  [/^oauth\.tokenUrl/, "oauth.token_url"],
  [/^oauth\.revocationUrl/, "oauth.revocation_url"],
  [/^oauth\.deviceAuthorizationUrl/, "oauth.device_authorization_url"],
  [/^oauth\.registrationUrl/, "registration.registration_endpoint"],
  [/^apiKey\.pattern/, "api_key.key_pattern"],
  [/^apiKey\.hint/, "api_key.key_pattern_hint"],
  [/^env/, "export"],
  [/^docsUrl/, "docs_url"],
];

function v1FieldName(path: string, hostField: string, list: boolean): string {
  // inject[i] is the i-th entry of a host list: `host_url[1]`, as the file spells it.
  if (path.startsWith("inject")) return path.replace(/^inject(\[\d+\])?(\.\w+)?/, (_, index?: string) => (list && index ? `${hostField}${index}` : hostField));
  const found = V1_FIELDS.find(([pattern]) => pattern.test(path));
  return found ? path.replace(found[0], found[1]) : path;
}

function rejectTypos(v1: V1, source: string): void {
  const sections: [string, Record<string, unknown> | null | undefined, string[]][] = [
    ["", v1, Object.keys(V1Schema.entries)],
    ["oauth.", v1.oauth, Object.keys(OAuthV1.entries)],
    ["api_key.", v1.api_key, Object.keys(ApiKeyV1.entries)],
  ];
  for (const [prefix, object, known] of sections) {
    for (const key of Object.keys(object ?? {})) {
      if (known.includes(key) || IGNORED_KEYS.includes(key)) continue;
      // Short keys tolerate one wrong letter, longer ones two: beyond that it is another word.
      const close = known.find((c) => editDistance(key, c) <= (key.length <= 5 ? 1 : 2));
      if (close !== undefined) throw pluginError(source, prefix + key, `unknown field (did you mean "${close}"?)`);
    }
  }
}

function convert(v1: V1, source: string): ProviderPlugin {
  const plugin: ProviderPlugin = {
    name: v1.name,
    displayName: v1.display_name,
    authType: v1.auth_type,
    flows: flowsOf(v1),
    inject: rulesOf(v1, source),
  };
  if (v1.oauth) plugin.oauth = oauthOf(v1);
  if (v1.oauth?.base_url) plugin.baseUrl = v1.oauth.base_url;
  const keyConfig = v1.api_key;
  if (keyConfig?.key_pattern || keyConfig?.key_pattern_hint) {
    plugin.apiKey = {};
    // Python checks keys with re.fullmatch: anchor the whole pattern to keep that meaning.
    // Anchors the file wrote already are dropped first: `^(?:^sk-...$)$` means the same, but the
    // run placeholder (placeholder.ts) reads only a single `^(?:...)$` wrapper.
    if (keyConfig.key_pattern) plugin.apiKey.pattern = `^(?:${keyConfig.key_pattern.replace(/^\^/, "").replace(/(?<!\\)\$$/, "")})$`;
    if (keyConfig.key_pattern_hint) plugin.apiKey.hint = keyConfig.key_pattern_hint;
  }
  const env = envOfV1(v1, source);
  if (Object.keys(env).length > 0) plugin.env = env;
  const docs = v1.docs_url ?? v1.docs;
  if (docs) plugin.docsUrl = docs;
  return plugin;
}

function flowsOf(v1: V1): FlowName[] {
  const first: FlowName = v1.flow === "api_key_prompt" || v1.flow === "api_key_env" ? "api_key" : v1.flow;
  const flows = [first];
  const o = v1.oauth;
  if (v1.auth_type !== "oauth2" || !o) return flows;
  if ((o.supports_device_code || o.supports_device_flow) && o.device_authorization_url) flows.push("device_code");
  // No registration endpoint: discovered at login from the authorization URL (flows/dcr-discovery.ts).
  if (o.supports_dcr && (registrationOf(v1) ?? o.authorization_url)) flows.push("dcr_pkce");
  return [...new Set(flows)];
}

function registrationOf(v1: V1): string | undefined {
  return v1.registration?.registration_endpoint ?? v1.oauth?.registration_endpoint ?? undefined;
}

function oauthOf(v1: V1): OAuthConfig {
  const o = v1.oauth ?? {};
  const out: OAuthConfig = {};
  if (o.authorization_url) out.authorizationUrl = o.authorization_url;
  if (o.token_url) out.tokenUrl = o.token_url;
  if (o.revocation_url) out.revocationUrl = o.revocation_url;
  if (o.device_authorization_url) out.deviceAuthorizationUrl = o.device_authorization_url;
  const registration = registrationOf(v1);
  if (registration) out.registrationUrl = registration;
  if (o.scopes) out.scopes = o.scopes;
  if (typeof o.pkce === "boolean") out.pkce = o.pkce;
  if (o.token_endpoint_auth_method) out.clientAuth = o.token_endpoint_auth_method;
  if (o.device_token_request === "json") out.deviceTokenRequest = "json";
  return out;
}

function rulesOf(v1: V1, source: string): InjectionRule[] {
  const [field, raw] = v1.api_url != null ? ["api_url", v1.api_url] : ["host_url", v1.host_url];
  if (raw == null) return [];
  const list = typeof raw === "string" ? [raw] : raw;
  const header: Pick<InjectionRule, "name" | "format"> = {};
  if (v1.api_key) {
    const prefix = (v1.api_key.header_prefix === undefined ? "Bearer" : (v1.api_key.header_prefix ?? "")).trim();
    header.name = v1.api_key.header_name ?? "Authorization";
    header.format = prefix === "" ? "{token}" : `${prefix} {token}`;
  }
  return list.map((entry, i) => ({
    ...hostRuleOf(entry, v1.oauth?.base_url ?? undefined, source, typeof raw === "string" ? field : `${field}[${i}]`),
    ...header,
  }));
}

function hostRuleOf(entry: string, baseUrl: string | undefined, source: string, path: string): InjectionRule {
  const text = entry.trim();
  if (text.toLowerCase().startsWith("regex:")) {
    const pattern = text.slice("regex:".length).trim();
    // Python matches with re.fullmatch: anchor the pattern to keep that meaning.
    const host = `regex:^(?:${pattern})$`;
    // RE2 syntax, breadth and all are checked with every other rule (rules.ts parseHostRule).
    if (pattern === "") throw pluginError(source, path, "invalid regex (empty)");
    return { host };
  }
  if (text.includes("{base_url}") && !baseUrl) throw pluginError(source, path, "uses {base_url} but oauth.base_url is not set");
  const resolved = text.replaceAll("{base_url}", (baseUrl ?? "").replace(/\/+$/, ""));
  let url: URL;
  try {
    url = new URL(resolved.includes("://") ? resolved : `https://${resolved}`);
  } catch {
    throw pluginError(source, path, "invalid host or URL");
  }
  const http = url.protocol === "http:" ? "http://" : "";
  const port = resolved.match(/^(?:[a-z]+:\/\/)?[^/:]+:(\d+)/i)?.[1];
  const rule: InjectionRule = { host: `${http}${url.hostname}${port ? `:${port}` : ""}` };
  const prefix = url.pathname.replace(/\/+$/, "");
  if (prefix !== "") rule.pathPrefix = prefix;
  return rule;
}

/**
 * Parses plugin JSON text, native or authsome-v1 (detected by `schema_version`). Top-level keys
 * starting with `$` (`$schema`, the registry's `$source` note) are ignored.
 */
export function loadPluginJson(text: string, source: string): ProviderPlugin {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw pluginError(source, "", "invalid JSON", error);
  }
  return loadPluginObject(json, source);
}

/** Validates parsed plugin JSON (native or v1); top-level `$` keys are ignored. */
export function loadPluginObject(json: unknown, source: string): ProviderPlugin {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw pluginError(source, "", "expected a JSON object");
  }
  const body = Object.fromEntries(Object.entries(json).filter(([key]) => !key.startsWith("$")));
  return isV1(body) ? fromV1(body, source) : validatePlugin(body, source);
}
