/**
 * The `/v1` API as data: each route is a method, a path pattern and a handler from parsed input
 * to a JSON value. The Hono app (src/server/app.ts) serves these over HTTP; the CLI dispatches
 * them in-process (src/server/dispatch.ts) without building Request/Response objects, which on
 * Node 20 cost ~40 ms of undici start-up per process. Both paths run the same handlers and the
 * same valibot parsing.
 */
import * as v from "valibot";
import type { AuthService } from "../core/auth-service.ts";
import { AuthsomeError } from "../core/errors.ts";
import type { LoginInteraction } from "../flows/types.ts";

/** What a handler receives. */
export interface RouteInput {
  service: AuthService;
  params: Record<string, string>;
  query: Record<string, string | undefined>;
  body: unknown;
  interaction?: LoginInteraction;
}

/** One API route. */
export interface ApiRoute {
  method: "GET" | "POST" | "DELETE";
  path: string;
  /** HTTP status on success (default 200). */
  status?: 200 | 201;
  handler(input: RouteInput): Promise<unknown>;
}

const FlowSchema = v.picklist(["pkce", "device_code", "client_credentials", "dcr_pkce", "api_key"]);
const LoginBody = v.strictObject({
  connection: v.optional(v.string()),
  flow: v.optional(FlowSchema),
  force: v.optional(v.boolean()),
  scopes: v.optional(v.array(v.string())),
  base_url: v.optional(v.pipe(v.string(), v.url())),
  client_id: v.optional(v.string()),
  api_key: v.optional(v.string()),
  timeout_ms: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1000))),
  redirect_port: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(65535))),
});
const LogoutBody = v.strictObject({ connection: v.optional(v.string()), all: v.optional(v.boolean()) });
const RevokeBody = v.optional(v.strictObject({ connection: v.optional(v.string()) }), {});
const DefaultBody = v.strictObject({ connection: v.string() });
const ProfileBody = v.strictObject({ name: v.string(), description: v.optional(v.string()) });
const ProviderBody = v.strictObject({ source: v.string(), force: v.optional(v.boolean()) });

/** Parses a request body, naming the first bad field. */
export function parseBody<T extends v.GenericSchema>(schema: T, raw: unknown): v.InferOutput<T> {
  const parsed = v.safeParse(schema, raw);
  if (parsed.success) return parsed.output;
  const issue = parsed.issues[0];
  const path = issue.path?.map((p) => String(p.key)).join(".") ?? "(body)";
  throw new AuthsomeError("usage", `invalid request field "${path}": ${issue.message}`);
}

const flag = (value: string | undefined) => ["1", "true", "yes"].includes(value ?? "");
const conn = (value: string | undefined) => (value === undefined || value === "" ? {} : { connection: value });
const p = (input: RouteInput, name: string) => input.params[name] ?? "";

/** Parses `--since`: an ISO time, or an age like `30m`, `2h`, `7d`. */
export function parseSince(text: string, now = Date.now()): Date {
  const relative = /^(\d+)([smhd])$/.exec(text);
  if (relative !== null) {
    const unit = { s: 1e3, m: 6e4, h: 3.6e6, d: 8.64e7 }[relative[2] as "s" | "m" | "h" | "d"];
    return new Date(now - Number(relative[1]) * unit);
  }
  const date = new Date(text);
  if (Number.isNaN(date.getTime())) {
    throw new AuthsomeError("usage", `--since "${text.slice(0, 40)}" is not a time`, { hint: "use an ISO time (2026-01-31T12:00Z) or an age like 30m, 2h, 7d" });
  }
  return date;
}

async function login(input: RouteInput): Promise<unknown> {
  const body = parseBody(LoginBody, input.body);
  return input.service.login(p(input, "provider"), {
    ...conn(body.connection),
    ...(body.flow === undefined ? {} : { flow: body.flow }),
    force: body.force ?? false,
    ...(body.scopes === undefined ? {} : { scopes: body.scopes }),
    ...(body.base_url === undefined ? {} : { baseUrl: body.base_url }),
    ...(body.client_id === undefined ? {} : { clientId: body.client_id }),
    ...(body.api_key === undefined ? {} : { apiKey: body.api_key }),
    ...(body.timeout_ms === undefined ? {} : { timeoutMs: body.timeout_ms }),
    ...(body.redirect_port === undefined ? {} : { redirectPort: body.redirect_port }),
    ...(input.interaction === undefined ? {} : { interaction: input.interaction }),
  });
}

/** Every `/v1` route. */
export const routes: ApiRoute[] = [
  { method: "GET", path: "/v1/health", handler: async () => ({ ok: true }) },
  { method: "GET", path: "/v1/whoami", handler: (i) => i.service.whoami() },
  { method: "GET", path: "/v1/doctor", handler: async (i) => ({ checks: await i.service.doctor() }) },
  { method: "GET", path: "/v1/providers", handler: (i) => i.service.listProviders() },
  {
    method: "POST", path: "/v1/providers", status: 201,
    handler: async (i) => {
      const body = parseBody(ProviderBody, i.body);
      const plugin = await i.service.installProvider(body.source, { force: body.force ?? false });
      return { installed: plugin.name, provider: plugin };
    },
  },
  { method: "GET", path: "/v1/providers/:provider", handler: (i) => i.service.inspect(p(i, "provider")) },
  { method: "DELETE", path: "/v1/providers/:provider", handler: async (i) => (await i.service.removeProvider(p(i, "provider")), { removed: p(i, "provider") }) },
  { method: "POST", path: "/v1/providers/:provider/login", status: 201, handler: login },
  {
    method: "GET", path: "/v1/providers/:provider/connection",
    handler: (i) => i.service.getConnection(p(i, "provider"), { ...conn(i.query["connection"]), showSecret: flag(i.query["show_secret"]) }),
  },
  { method: "GET", path: "/v1/providers/:provider/token", handler: async (i) => ({ token: await i.service.getAccessToken(p(i, "provider"), conn(i.query["connection"])) }) },
  { method: "GET", path: "/v1/providers/:provider/export", handler: async (i) => ({ env: await i.service.exportEnv(p(i, "provider"), conn(i.query["connection"])) }) },
  { method: "POST", path: "/v1/providers/:provider/default", handler: (i) => i.service.setDefault(p(i, "provider"), parseBody(DefaultBody, i.body).connection) },
  {
    method: "POST", path: "/v1/providers/:provider/logout",
    handler: async (i) => {
      const body = parseBody(LogoutBody, i.body);
      return { provider: p(i, "provider"), removed: await i.service.logout(p(i, "provider"), { ...conn(body.connection), all: body.all ?? false }) };
    },
  },
  {
    method: "POST", path: "/v1/providers/:provider/revoke",
    handler: (i) => i.service.revoke(p(i, "provider"), conn(parseBody(RevokeBody, i.body).connection)),
  },
  { method: "GET", path: "/v1/profiles", handler: async (i) => ({ profiles: await i.service.listProfiles() }) },
  {
    method: "POST", path: "/v1/profiles", status: 201,
    handler: (i) => {
      const body = parseBody(ProfileBody, i.body);
      return i.service.createProfile(body.name, body.description === undefined ? {} : { description: body.description });
    },
  },
  { method: "DELETE", path: "/v1/profiles/:name", handler: async (i) => (await i.service.removeProfile(p(i, "name"), { force: flag(i.query["force"]) }), { removed: p(i, "name") }) },
  {
    method: "GET", path: "/v1/audit",
    handler: async (i) => {
      const since = i.query["since"];
      return { entries: await i.service.auditEntries(since === undefined ? {} : { since: parseSince(since) }) };
    },
  },
  { method: "GET", path: "/v1/audit/verify", handler: (i) => i.service.verifyAudit() },
];

/** Matches a path against a pattern like `/v1/providers/:provider`; returns the params or null. */
export function matchPath(pattern: string, path: string): Record<string, string> | null {
  const want = pattern.split("/");
  const got = path.split("/");
  if (want.length !== got.length) return null;
  const params: Record<string, string> = {};
  for (const [index, part] of want.entries()) {
    const actual = got[index] ?? "";
    if (part.startsWith(":")) {
      if (actual === "") return null;
      params[part.slice(1)] = decodeURIComponent(actual);
    } else if (part !== actual) return null;
  }
  return params;
}

/** Finds the route for a method and path. */
export function findRoute(method: string, path: string): { route: ApiRoute; params: Record<string, string> } | null {
  for (const route of routes) {
    if (route.method !== method) continue;
    const params = matchPath(route.path, path);
    if (params !== null) return { route, params };
  }
  return null;
}
