/**
 * The `/v1` API as a typed table: operation name -> method, path, input schema and handler.
 * The Hono app (src/server/app.ts) serves each operation at its method and path, gathering the
 * input from path parameters, query and JSON body; the CLI calls the same operations by name
 * (src/cli/client.ts) with typed inputs and outputs, without building URLs or Request/Response
 * objects (which on Node 20 cost ~40 ms of undici start-up per process). Both run the same
 * valibot parsing and the same handlers.
 */
import * as v from "valibot";
import type { AuthService } from "../core/auth-service.ts";
import { AuthsomeError } from "../core/errors.ts";
import type { LoginInteraction } from "../flows/types.ts";

/** What a handler receives besides its input. */
export interface OperationContext {
  service: AuthService;
  interaction?: LoginInteraction;
}

/** One API operation. `input` parses the path parameters, query and body fields as one object. */
export interface Operation<S extends v.GenericSchema = v.GenericSchema, R = unknown> {
  method: "GET" | "POST" | "DELETE";
  path: string;
  /** HTTP status on success (default 200). */
  status?: 200 | 201;
  input: S;
  handler(input: v.InferOutput<S>, context: OperationContext): Promise<R>;
}

/** Declares an operation (inference only). */
function defineOperation<S extends v.GenericSchema, R>(operation: Operation<S, R>): Operation<S, R> {
  return operation;
}

/** Parses a request body, naming the first bad field. */
export function parseBody<T extends v.GenericSchema>(schema: T, raw: unknown): v.InferOutput<T> {
  const parsed = v.safeParse(schema, raw);
  if (parsed.success) return parsed.output;
  const issue = parsed.issues[0];
  const path = issue.path?.map((p) => String(p.key)).join(".") ?? "(body)";
  throw new AuthsomeError("usage", `invalid request field "${path}": ${issue.message}`);
}

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

const Name = v.pipe(v.string(), v.minLength(1));
/** A flag: a JSON boolean, or `1`/`true`/`yes` in a query string. */
const Flag = v.optional(v.union([v.boolean(), v.pipe(v.string(), v.transform((s) => ["1", "true", "yes"].includes(s)))]), false);
const Empty = v.strictObject({});
const Provider = v.strictObject({ provider: Name });
const ProviderConnection = v.strictObject({ provider: Name, connection: v.optional(v.string()) });
const FlowSchema = v.picklist(["pkce", "device_code", "client_credentials", "dcr_pkce", "api_key"]);
const LoginInput = v.strictObject({
  provider: Name,
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

/** `{ connection }` for the service when one was named (an empty name is refused by the core). */
const conn = (value: string | undefined) => (value === undefined ? {} : { connection: value });
/** Drops undefined fields (the service's options use exactOptionalPropertyTypes-style absence). */
const defined = <T extends Record<string, unknown>>(o: T) => Object.fromEntries(Object.entries(o).filter(([, x]) => x !== undefined)) as { [K in keyof T]?: Exclude<T[K], undefined> };

/** Every `/v1` operation. */
export const operations = {
  health: defineOperation({ method: "GET", path: "/v1/health", input: Empty, handler: async () => ({ ok: true }) }),
  whoami: defineOperation({ method: "GET", path: "/v1/whoami", input: Empty, handler: (_, c) => c.service.whoami() }),
  doctor: defineOperation({ method: "GET", path: "/v1/doctor", input: Empty, handler: async (_, c) => ({ checks: await c.service.doctor() }) }),
  repairStore: defineOperation({
    method: "POST", path: "/v1/doctor/repair",
    input: v.strictObject({ dry_run: v.optional(v.boolean()) }),
    handler: async (i, c) => (i.dry_run === true ? { damaged: await c.service.findDamaged(), moved: [] } : { damaged: [], moved: await c.service.repair() }),
  }),
  listProviders: defineOperation({ method: "GET", path: "/v1/providers", input: Empty, handler: (_, c) => c.service.listProviders() }),
  installProvider: defineOperation({
    method: "POST", path: "/v1/providers", status: 201,
    input: v.strictObject({ source: v.string(), force: v.optional(v.boolean()) }),
    handler: async (i, c) => {
      const plugin = await c.service.installProvider(i.source, { force: i.force ?? false });
      return { installed: plugin.name, provider: plugin };
    },
  }),
  inspectProvider: defineOperation({ method: "GET", path: "/v1/providers/:provider", input: Provider, handler: (i, c) => c.service.inspect(i.provider) }),
  removeProvider: defineOperation({
    method: "DELETE", path: "/v1/providers/:provider", input: Provider,
    handler: async (i, c) => (await c.service.removeProvider(i.provider), { removed: i.provider }),
  }),
  login: defineOperation({
    method: "POST", path: "/v1/providers/:provider/login", status: 201, input: LoginInput,
    handler: (i, c) => {
      const { provider, base_url, client_id, api_key, timeout_ms, redirect_port, ...rest } = i;
      const options = defined({ ...rest, baseUrl: base_url, clientId: client_id, apiKey: api_key, timeoutMs: timeout_ms, redirectPort: redirect_port, interaction: c.interaction });
      return c.service.login(provider, { ...options, force: i.force ?? false });
    },
  }),
  getConnection: defineOperation({
    method: "GET", path: "/v1/providers/:provider/connection",
    input: v.strictObject({ provider: Name, connection: v.optional(v.string()), show_secret: Flag }),
    handler: (i, c) => c.service.getConnection(i.provider, { ...conn(i.connection), showSecret: i.show_secret }),
  }),
  getToken: defineOperation({
    method: "GET", path: "/v1/providers/:provider/token", input: ProviderConnection,
    handler: async (i, c) => ({ token: await c.service.getAccessToken(i.provider, conn(i.connection)) }),
  }),
  exportEnv: defineOperation({
    method: "GET", path: "/v1/providers/:provider/export", input: ProviderConnection,
    handler: async (i, c) => ({ env: await c.service.exportEnv(i.provider, conn(i.connection)) }),
  }),
  setDefault: defineOperation({
    method: "POST", path: "/v1/providers/:provider/default", input: v.strictObject({ provider: Name, connection: v.string() }),
    handler: (i, c) => c.service.setDefault(i.provider, i.connection),
  }),
  logout: defineOperation({
    method: "POST", path: "/v1/providers/:provider/logout",
    input: v.strictObject({ provider: Name, connection: v.optional(v.string()), all: v.optional(v.boolean()) }),
    handler: async (i, c) => ({ provider: i.provider, removed: await c.service.logout(i.provider, { ...conn(i.connection), all: i.all ?? false }) }),
  }),
  revoke: defineOperation({
    method: "POST", path: "/v1/providers/:provider/revoke", input: ProviderConnection,
    handler: (i, c) => c.service.revoke(i.provider, conn(i.connection)),
  }),
  mcpLogin: defineOperation({
    method: "POST", path: "/v1/mcp/login", status: 201,
    input: v.strictObject({
      url: Name, name: v.optional(v.string()), connection: v.optional(v.string()), force: v.optional(v.boolean()), scopes: v.optional(v.array(v.string())),
      client_id: v.optional(v.string()), client_metadata_url: v.optional(v.string()),
      timeout_ms: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1000))), redirect_port: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(65535))),
    }),
    handler: async (i, c) => {
      if (c.interaction === undefined) throw new AuthsomeError("usage", "an MCP login needs an interactive session", { hint: `run \`authsome login ${i.url}\` in a terminal` });
      const { client_id, client_metadata_url, timeout_ms, redirect_port, ...rest } = i;
      const options = defined({ ...rest, clientId: client_id, clientMetadataUrl: client_metadata_url, timeoutMs: timeout_ms, redirectPort: redirect_port });
      return (await import("../mcp/login.ts")).mcpLogin(c.service, { ...options, url: i.url, interaction: c.interaction });
    },
  }),
  mcpImport: defineOperation({
    method: "POST", path: "/v1/mcp/import",
    input: v.strictObject({ dir: v.optional(v.string()), urls: v.optional(v.array(v.string())), connection: v.optional(v.string()) }),
    handler: async (i, c) => (await import("../mcp/import-mcp-remote.ts")).importMcpRemote(c.service, defined(i)),
  }),
  mcpList: defineOperation({ method: "GET", path: "/v1/mcp/servers", input: Empty, handler: async (_, c) => ({ servers: await (await import("../mcp/list.ts")).listMcpServers(c.service) }) }),
  listProfiles: defineOperation({ method: "GET", path: "/v1/profiles", input: Empty, handler: async (_, c) => ({ profiles: await c.service.listProfiles() }) }),
  createProfile: defineOperation({
    method: "POST", path: "/v1/profiles", status: 201, input: v.strictObject({ name: v.string(), description: v.optional(v.string()) }),
    handler: (i, c) => c.service.createProfile(i.name, i.description === undefined ? {} : { description: i.description }),
  }),
  removeProfile: defineOperation({
    method: "DELETE", path: "/v1/profiles/:name", input: v.strictObject({ name: Name, force: Flag }),
    handler: async (i, c) => (await c.service.removeProfile(i.name, { force: i.force }), { removed: i.name }),
  }),
  auditEntries: defineOperation({
    method: "GET", path: "/v1/audit", input: v.strictObject({ since: v.optional(v.string()) }),
    handler: async (i, c) => ({ entries: await c.service.auditEntries(i.since === undefined ? {} : { since: parseSince(i.since) }) }),
  }),
  verifyAudit: defineOperation({ method: "GET", path: "/v1/audit/verify", input: Empty, handler: (_, c) => c.service.verifyAudit() }),
  explain: defineOperation({
    method: "GET", path: "/v1/explain", input: v.strictObject({ url: Name, connection: v.optional(v.string()) }),
    // Loaded on use: no other command needs it. Reads metadata only and sends nothing.
    handler: async (i, c) => (await import("../core/explain.ts")).explain(c.service.core, i.url, conn(i.connection)),
  }),
};

/** The table's type: what the typed client is built from. */
export type Operations = typeof operations;
/** An operation's name. */
export type OperationName = keyof Operations;
/** What a caller passes to an operation (before parsing: flags may be booleans or query strings). */
export type OperationInput<K extends OperationName> = v.InferInput<Operations[K]["input"]>;
/** What an operation answers (as JSON: the client round-trips it). */
export type OperationOutput<K extends OperationName> = Awaited<ReturnType<Operations[K]["handler"]>>;

/** Parses `raw` with the operation's schema and runs its handler. */
export async function callOperation<K extends OperationName>(name: K, raw: unknown, context: OperationContext): Promise<OperationOutput<K>> {
  const operation: Operation = operations[name];
  return (await operation.handler(parseBody(operation.input, raw), context)) as OperationOutput<K>;
}
