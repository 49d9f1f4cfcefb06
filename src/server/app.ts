/**
 * The `/v1` API: one Hono app that the CLI calls in-process (`app.request()`) and `authsome
 * serve` exposes on 127.0.0.1. Every body and query is parsed with valibot; every error is an
 * `AuthsomeError` answered as `{ error, message, hint? }` with its status.
 */
import { Hono, type Context } from "hono";
import * as v from "valibot";
import type { AuthService } from "../core/auth-service.ts";
import { AuthsomeError, toAuthsomeError } from "../core/errors.ts";
import type { LoginInteraction } from "../flows/types.ts";

/** Options for {@link createApp}. */
export interface AppOptions {
  /** The service for a profile (undefined = the default of the home or environment). */
  getService(profile: string | undefined): Promise<AuthService>;
  /** Bearer token required on every request (the daemon); none in-process. */
  token?: string;
  /** How interactive logins reach the user (in-process CLI only). */
  interaction?: LoginInteraction;
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
});
const DefaultBody = v.strictObject({ connection: v.string() });
const ProfileBody = v.strictObject({ name: v.string(), description: v.optional(v.string()) });
const ProviderBody = v.strictObject({ source: v.string(), force: v.optional(v.boolean()) });

async function body<T extends v.GenericSchema>(c: Context, schema: T): Promise<v.InferOutput<T>> {
  let raw: unknown;
  try {
    raw = await c.req.json();
  } catch {
    throw new AuthsomeError("usage", "the request body is not JSON");
  }
  const parsed = v.safeParse(schema, raw);
  if (parsed.success) return parsed.output;
  const issue = parsed.issues[0];
  const path = issue.path?.map((p) => String(p.key)).join(".") ?? "(body)";
  throw new AuthsomeError("usage", `invalid request field "${path}": ${issue.message}`);
}

const flag = (c: Context, name: string) => ["1", "true", "yes"].includes(c.req.query(name) ?? "");
const opt = (value: string | undefined) => (value === undefined || value === "" ? {} : { connection: value });

/** Builds the API app. */
export function createApp(options: AppOptions): Hono {
  const app = new Hono();
  const service = (c: Context) => options.getService(c.req.header("x-authsome-profile") ?? c.req.query("profile"));

  app.onError((error, c) => {
    const failure = toAuthsomeError(error);
    return c.json(failure.toJSON(), failure.status as 400);
  });
  app.notFound((c) => c.json({ error: "usage", message: `no route ${c.req.method} ${c.req.path}` }, 404));
  if (options.token !== undefined) {
    const expected = `Bearer ${options.token}`;
    app.use("/v1/*", async (c, next) => {
      if (c.req.path === "/v1/health") return next();
      if (!timingSafeEqual(c.req.header("authorization") ?? "", expected)) {
        return c.json({ error: "unauthorized", message: "missing or wrong bearer token" }, 401);
      }
      return next();
    });
  }

  app.get("/v1/health", (c) => c.json({ ok: true }));
  app.get("/v1/whoami", async (c) => c.json(await (await service(c)).whoami()));
  app.get("/v1/doctor", async (c) => c.json({ checks: await (await service(c)).doctor() }));
  app.get("/v1/providers", async (c) => c.json(await (await service(c)).listProviders()));
  app.post("/v1/providers", async (c) => {
    const input = await body(c, ProviderBody);
    const plugin = await (await service(c)).installProvider(input.source, { force: input.force ?? false });
    return c.json({ installed: plugin.name, provider: plugin }, 201);
  });
  app.get("/v1/providers/:provider", async (c) => c.json(await (await service(c)).inspect(c.req.param("provider"))));
  app.delete("/v1/providers/:provider", async (c) => {
    await (await service(c)).removeProvider(c.req.param("provider"));
    return c.json({ removed: c.req.param("provider") });
  });
  app.post("/v1/providers/:provider/login", async (c) => {
    const input = await body(c, LoginBody);
    const view = await (await service(c)).login(c.req.param("provider"), {
      ...opt(input.connection),
      ...(input.flow === undefined ? {} : { flow: input.flow }),
      force: input.force ?? false,
      ...(input.scopes === undefined ? {} : { scopes: input.scopes }),
      ...(input.base_url === undefined ? {} : { baseUrl: input.base_url }),
      ...(input.client_id === undefined ? {} : { clientId: input.client_id }),
      ...(input.api_key === undefined ? {} : { apiKey: input.api_key }),
      ...(input.timeout_ms === undefined ? {} : { timeoutMs: input.timeout_ms }),
      ...(options.interaction === undefined ? {} : { interaction: options.interaction }),
    });
    return c.json(view, 201);
  });
  app.get("/v1/providers/:provider/connection", async (c) =>
    c.json(await (await service(c)).getConnection(c.req.param("provider"), { ...opt(c.req.query("connection")), showSecret: flag(c, "show_secret") })),
  );
  app.get("/v1/providers/:provider/export", async (c) =>
    c.json({ env: await (await service(c)).exportEnv(c.req.param("provider"), opt(c.req.query("connection"))) }),
  );
  app.post("/v1/providers/:provider/default", async (c) => {
    const input = await body(c, DefaultBody);
    return c.json(await (await service(c)).setDefault(c.req.param("provider"), input.connection));
  });
  app.post("/v1/providers/:provider/logout", async (c) => {
    const input = await body(c, v.strictObject({ connection: v.optional(v.string()), all: v.optional(v.boolean()) }));
    const removed = await (await service(c)).logout(c.req.param("provider"), { ...opt(input.connection), all: input.all ?? false });
    return c.json({ provider: c.req.param("provider"), removed });
  });
  app.get("/v1/profiles", async (c) => c.json({ profiles: await (await service(c)).listProfiles() }));
  app.post("/v1/profiles", async (c) => {
    const input = await body(c, ProfileBody);
    return c.json(await (await service(c)).createProfile(input.name, input.description === undefined ? {} : { description: input.description }), 201);
  });
  app.delete("/v1/profiles/:name", async (c) => {
    await (await service(c)).removeProfile(c.req.param("name"), { force: flag(c, "force") });
    return c.json({ removed: c.req.param("name") });
  });
  app.get("/v1/audit", async (c) => {
    const since = c.req.query("since");
    const date = since === undefined ? undefined : parseSince(since);
    return c.json({ entries: await (await service(c)).auditEntries(date === undefined ? {} : { since: date }) });
  });
  app.get("/v1/audit/verify", async (c) => c.json(await (await service(c)).verifyAudit()));
  return app;
}

/** Parses `--since`: an ISO time, or a relative age like `30m`, `2h`, `7d`. */
export function parseSince(text: string, now = Date.now()): Date {
  const relative = /^(\d+)([smhd])$/.exec(text);
  if (relative !== null) {
    const unit = { s: 1e3, m: 6e4, h: 3.6e6, d: 8.64e7 }[relative[2] as "s" | "m" | "h" | "d"];
    return new Date(now - Number(relative[1]) * unit);
  }
  const date = new Date(text);
  if (Number.isNaN(date.getTime())) throw new AuthsomeError("usage", `--since "${text.slice(0, 40)}" is not a time`, { hint: "use an ISO time (2026-01-31T12:00Z) or an age like 30m, 2h, 7d" });
  return date;
}

function timingSafeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
