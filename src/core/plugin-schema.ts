/**
 * The one place a provider plugin is validated (valibot), whatever it came from: a bundled
 * module, an installed JSON file, a converted authsome-v1 file, or a third-party package.
 * A bad plugin is refused whole, with its source and the failing field named.
 */
import * as v from "valibot";
import { AuthsomeError } from "./errors.ts";
import { AUTH_TYPES, CREDENTIAL_FIELDS, FLOW_NAMES } from "./plugin.ts";
import type { FlowName, ProviderPlugin } from "./plugin.ts";
import { keyPatternProblem } from "./rule-regex.ts";
import { parseHostRule } from "./rules.ts";

/** The largest plugin definition accepted: a home's plugin file, or one in the shared store. */
export const MAX_PLUGIN_BYTES = 1024 * 1024;

/** Provider names: also file names under `<home>/plugins/`, so no dots or slashes. */
export const PLUGIN_NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const PATH_SEGMENT_START = /^[A-Za-z0-9._~-]{1,64}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
// Headers the transport owns; a plugin setting them would break or smuggle requests.
const RESERVED_HEADERS = new Set([
  "host", "content-length", "transfer-encoding", "connection", "upgrade", "te", "trailer", "keep-alive",
]);
const PLACEHOLDERS = new Set<string>(["token", ...CREDENTIAL_FIELDS]);

function isUrl(value: string, allowTemplate: boolean): boolean {
  const text = allowTemplate ? value.replaceAll("{base_url}", "https://base-url.invalid") : value;
  if (!allowTemplate && text.includes("{")) return false;
  try {
    const url = new URL(text);
    return url.protocol === "https:" || url.protocol === "http:";
  } catch {
    return false;
  }
}

function formatProblem(format: string): string | null {
  if (/[\r\n\0]/.test(format)) return "must not contain control characters";
  const names = [...format.matchAll(/\{([^{}]*)\}/g)].map((m) => m[1] ?? "");
  if (names.length === 0) return "must contain a placeholder such as {token}";
  // `{token.0}` / `{token.1}`: the halves of a pair entered as one value (rules.ts).
  const unknown = names.find((n) => !PLACEHOLDERS.has(n.replace(/\.[01]$/, "")));
  return unknown === undefined ? null : `unknown placeholder {${unknown}}`;
}

function hostProblem(host: string): string | null {
  try {
    parseHostRule(host);
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : "invalid host rule";
  }
}

/** True for a JSON object: valibot's object and record schemas also accept arrays, as `{}`. */
function isPlainObject(value: unknown): boolean {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * `schema` (an object or record schema) refusing arrays: without this, `apiKey: []` or
 * `env: []` parse as empty objects and give a provider that silently injects nothing.
 */
export function objectOnly<const T extends v.GenericSchema>(schema: T): v.SchemaWithPipe<readonly [v.CustomSchema<unknown, v.ErrorMessage<v.CustomIssue> | undefined>, T]> {
  return v.pipe(v.custom<unknown>(isPlainObject, "expected an object"), schema);
}

const Text = v.pipe(v.string(), v.nonEmpty("must not be empty"));
const UrlTemplate = v.pipe(v.string(), v.check((s) => isUrl(s, true), "invalid URL"));
const Url = v.pipe(v.string(), v.check((s) => isUrl(s, false), "invalid URL"));
const Field = v.picklist(CREDENTIAL_FIELDS);

const RuleObject = v.strictObject({
    host: v.pipe(v.string(), v.rawCheck(({ dataset, addIssue }) => {
      const problem = dataset.typed ? hostProblem(dataset.value) : null;
      if (problem !== null) addIssue({ message: problem });
    })),
    pathPrefix: v.optional(v.pipe(v.string(), v.startsWith("/", "must start with /"))),
    in: v.optional(v.picklist(["header", "query", "basic", "path"])),
    name: v.optional(v.pipe(
      v.string(),
      v.regex(HEADER_NAME, "invalid header or parameter name"),
      v.check((n) => !RESERVED_HEADERS.has(n.toLowerCase()) && !n.toLowerCase().startsWith("proxy-"), "reserved header name"),
    )),
    format: v.optional(v.pipe(v.string(), v.rawCheck(({ dataset, addIssue }) => {
      const problem = dataset.typed ? formatProblem(dataset.value) : null;
      if (problem !== null) addIssue({ message: problem });
    }))),
    // false: responses to this rule's requests are not scrubbed (docs/plugins.md).
    scrub: v.optional(v.boolean()),
});

const RuleSchema = v.pipe(
  objectOnly(RuleObject),
  v.forward(v.check((r) => r.in !== "query" || r.name !== undefined, "required for in: \"query\""), ["name"]),
  // A path rule's name starts a URL path segment (`bot` of `/bot<token>/`): unreserved characters only.
  v.forward(v.check((r) => r.in !== "path" || r.name !== undefined, "required for in: \"path\" (the segment's literal start, e.g. \"bot\")"), ["name"]),
  v.forward(v.check((r) => r.in !== "path" || r.name === undefined || PATH_SEGMENT_START.test(r.name), "must be letters, digits, \"-\", \".\", \"_\" or \"~\" for in: \"path\""), ["name"]),
  v.forward(v.check((r) => r.in !== "path" || r.format === undefined, "not used with in: \"path\" (the segment gets the token itself)"), ["format"]),
);

const ResourceUri = v.pipe(UrlTemplate, v.check((u) => !u.includes("#"), "a resource indicator has no fragment (RFC 8707 2)"));

const OAuthSchema = v.strictObject({
  authorizationUrl: v.optional(UrlTemplate),
  tokenUrl: v.optional(UrlTemplate),
  revocationUrl: v.optional(UrlTemplate),
  deviceAuthorizationUrl: v.optional(UrlTemplate),
  registrationUrl: v.optional(UrlTemplate),
  issuer: v.optional(UrlTemplate),
  scopes: v.optional(v.array(v.pipe(v.string(), v.regex(/^\S+$/, "scopes must be non-empty and contain no spaces")))),
  pkce: v.optional(v.boolean()),
  clientAuth: v.optional(v.picklist(["client_secret_basic", "client_secret_post"])),
  redirectUri: v.optional(Url),
  authorizationParams: v.optional(objectOnly(v.record(Text, v.string()))),
  scopeSeparator: v.optional(v.pipe(v.string(), v.nonEmpty("must not be empty"))),
  // RFC 8707 2: absolute URIs without a fragment.
  resource: v.optional(v.union([ResourceUri, v.pipe(v.array(ResourceUri), v.nonEmpty("must not be empty"))])),
  deviceTokenRequest: v.optional(v.picklist(["form", "json"])),
});

const ApiKeySchema = v.strictObject({
  pattern: v.optional(v.pipe(v.string(), v.rawCheck(({ dataset, addIssue }) => {
    const problem = dataset.typed ? keyPatternProblem(dataset.value) : null;
    if (problem !== null) addIssue({ message: problem });
  }))),
  hint: v.optional(v.string()),
  keyUrl: v.optional(Url),
});

// SigV4 scope names are lower-case words (`s3`, `bedrock`, `us-east-1`, R2's `auto`).
const SigV4Name = v.pipe(v.string(), v.regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "must be a lower-case AWS name such as s3 or us-east-1"));
const SigV4Schema = v.strictObject({ service: v.optional(SigV4Name), region: v.optional(SigV4Name) });
// A TypeScript plugin's sign hook as its source text (plugin-sign.ts runs it in a sandbox).
const SignSchema = v.strictObject({ source: v.pipe(v.string(), v.nonEmpty("must not be empty"), v.maxLength(65536, "must be at most 64 KiB")) });

const EnvSchema = v.pipe(
  objectOnly(v.record(v.pipe(v.string(), v.regex(ENV_NAME, "invalid env variable name")), Field)),
  v.check((env) => !Object.values(env).includes("refresh_token"), "refresh tokens are never exported"),
);

const BaseSchema = v.strictObject({
  name: v.pipe(v.string(), v.regex(PLUGIN_NAME_PATTERN, "must match ^[a-z0-9][a-z0-9_-]{0,63}$")),
  displayName: v.optional(Text),
  authType: v.picklist(AUTH_TYPES),
  flows: v.optional(v.pipe(
    v.array(v.picklist(FLOW_NAMES)),
    v.nonEmpty("must not be empty"),
    v.check((f) => new Set(f).size === f.length, "must not repeat a flow"),
  )),
  oauth: v.optional(objectOnly(OAuthSchema)),
  apiKey: v.optional(objectOnly(ApiKeySchema)),
  baseUrl: v.optional(Url),
  inject: v.array(RuleSchema),
  env: v.optional(EnvSchema),
  docsUrl: v.optional(Url),
  sigv4: v.optional(objectOnly(SigV4Schema)),
  sign: v.optional(objectOnly(SignSchema)),
});

type BaseOutput = v.InferOutput<typeof BaseSchema>;

/** The endpoints each OAuth flow needs; `dcr_pkce` is handled apart (registration, issuer or discovery). */
const FLOW_ENDPOINTS: Record<FlowName, ("authorizationUrl" | "tokenUrl" | "deviceAuthorizationUrl")[]> = {
  pkce: ["authorizationUrl", "tokenUrl"],
  device_code: ["deviceAuthorizationUrl", "tokenUrl"],
  client_credentials: ["tokenUrl"],
  dcr_pkce: [],
  api_key: [],
};

/** Cross-field rules: flows fit the auth type, and each flow has the endpoints it uses. */
function flowIssues(p: BaseOutput): { path: string; message: string } | null {
  if (p.sigv4 !== undefined && p.authType !== "aws_sigv4") return { path: "sigv4", message: "needs authType \"aws_sigv4\"" };
  if (p.sign !== undefined && (p.authType === "aws_sigv4" || p.authType === "oauth2")) return { path: "sign", message: "a sign hook needs authType \"api_key\" or \"basic\"" };
  const flows = p.flows ?? [p.authType === "oauth2" ? "pkce" : "api_key"];
  if (p.authType !== "oauth2") {
    const bad = flows.find((f) => f !== "api_key");
    return bad === undefined ? null : { path: "flows", message: `flow "${bad}" needs authType "oauth2"` };
  }
  if (p.oauth === undefined) return { path: "oauth", message: "required for authType \"oauth2\"" };
  for (const flow of flows) {
    if (flow === "api_key") return { path: "flows", message: "flow \"api_key\" needs authType \"api_key\" or \"basic\"" };
    // Without either, the endpoint is discovered at login from the authorization URL's origin
    // (RFC 8414, then OpenID discovery), as the Python authsome does for Linear.
    const discoverable = p.oauth.registrationUrl ?? p.oauth.issuer ?? p.oauth.authorizationUrl;
    if (flow === "dcr_pkce" && discoverable === undefined) {
      return { path: "oauth.registrationUrl", message: "required by flow \"dcr_pkce\" (or oauth.issuer, or oauth.authorizationUrl to discover it from)" };
    }
    const missing = FLOW_ENDPOINTS[flow].find((key) => p.oauth?.[key] === undefined);
    if (missing !== undefined) return { path: `oauth.${missing}`, message: `required by flow "${flow}"` };
  }
  return null;
}

/** The valibot schema of a {@link ProviderPlugin} (strict: unknown keys are errors). */
export const ProviderPluginSchema = v.pipe(
  objectOnly(BaseSchema),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const issue = flowIssues(dataset.value);
    if (issue === null) return;
    const item = (key: string): v.ObjectPathItem =>
      ({ type: "object", origin: "value", input: dataset.value, key, value: undefined });
    const [head = "", ...tail] = issue.path.split(".");
    addIssue({ message: issue.message, path: [item(head), ...tail.map(item)] });
  }),
);

// Compile-time proof that whatever the schema outputs is a ProviderPlugin.
const _outputIsPlugin = (x: v.InferOutput<typeof ProviderPluginSchema>): ProviderPlugin => x;
void _outputIsPlugin;

/** Formats a valibot path as `inject[0].host`. */
function dotPath(issue: v.BaseIssue<unknown>): string {
  let out = "";
  for (const item of issue.path ?? []) {
    const key: unknown = item.key;
    if (typeof key === "number") out += `[${key}]`;
    else out += out === "" ? String(key) : `.${String(key)}`;
  }
  return out;
}

function issueText(issue: v.BaseIssue<unknown>): string {
  if (issue.type === "strict_object" && issue.expected === "never") {
    const key = String(issue.path?.at(-1)?.key ?? "");
    const close = closeNames(key, knownKeysAt(issue));
    return close.length > 0 ? `unknown field (did you mean "${close[0]}"?)` : "unknown field";
  }
  if (issue.received === "undefined") return "required";
  if (issue.type === "custom") return `${issue.message}, got ${issue.received === "Array" ? "an array" : issue.received}`;
  if (issue.type === "picklist") return `must be one of ${(issue.expected ?? "").replace(/^\((.*)\)$/, "$1")}`;
  if (issue.kind === "schema") return `expected ${issue.expected ?? "a different type"}, got ${issue.received}`;
  return issue.message;
}

/** The keys allowed where an unknown key was found, for "did you mean" suggestions. */
function knownKeysAt(issue: v.BaseIssue<unknown>): string[] {
  const path = issue.path ?? [];
  const section = path.length > 1 ? path[0]?.key : undefined;
  if (section === "oauth") return Object.keys(OAuthSchema.entries);
  if (section === "apiKey") return Object.keys(ApiKeySchema.entries);
  if (section === "inject") return Object.keys(RuleObject.entries);
  if (section === "sigv4") return Object.keys(SigV4Schema.entries);
  return Object.keys(BaseSchema.entries);
}

/** Builds the plugin_invalid error: `plugin <source>: field "<path>": <problem>`. */
export function pluginError(source: string, path: string, problem: string, cause?: unknown): AuthsomeError {
  const where = path === "" ? "" : ` field "${path}":`;
  return new AuthsomeError("plugin_invalid", `plugin ${source}:${where} ${problem}`, {
    cause,
    hint: "fix the plugin definition (see docs/plugins.md)",
  });
}

/** Options for {@link validatePlugin}. */
export interface ValidateOptions {
  /** Renames a field path in messages (the v1 loader names its own fields, not ours). */
  fieldName?: (path: string) => string;
}

/**
 * Validates a plugin and returns a clean copy. Throws `AuthsomeError("plugin_invalid")` naming
 * `source` (file path or package) and the first failing field.
 */
export function validatePlugin(input: unknown, source: string, options: ValidateOptions = {}): ProviderPlugin {
  const result = v.safeParse(ProviderPluginSchema, input);
  if (result.success) return result.output;
  const [first] = result.issues;
  const more = result.issues.length > 1 ? ` (and ${result.issues.length - 1} more)` : "";
  const path = dotPath(first);
  throw pluginError(source, options.fieldName ? options.fieldName(path) : path, issueText(first) + more);
}

/** Up to three of `candidates` close to `name` (edit distance <= 2, or a prefix), closest first. */
export function closeNames(name: string, candidates: Iterable<string>): string[] {
  const scored: [number, string][] = [];
  for (const candidate of new Set(candidates)) {
    const d = editDistance(name.toLowerCase(), candidate.toLowerCase());
    const prefix = name.length >= 3 && candidate.toLowerCase().startsWith(name.toLowerCase());
    if (d <= 2 || prefix) scored.push([prefix ? Math.min(d, 1) : d, candidate]);
  }
  return scored.sort((a, b) => a[0] - b[0] || a[1].localeCompare(b[1])).slice(0, 3).map(([, c]) => c);
}

/** Levenshtein distance between two short strings. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
