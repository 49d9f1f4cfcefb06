/**
 * The `/v1` API over HTTP: the operations of src/server/routes.ts mounted on a Hono app, which
 * `authsome serve` exposes on 127.0.0.1 and tests call through `app.request()`. An operation's
 * input is its path parameters, query and JSON body fields in one object. Every error is an
 * `AuthsomeError` answered as `{ error, message, hint? }` with its status. Served by the daemon,
 * requests pass the local guard (guard.ts) first, then the bearer token.
 */
import { Hono, type Context } from "hono";
import type { AuthService } from "../core/auth-service.ts";
import { constantTimeEqual } from "../core/crypto.ts";
import { AuthsomeError, toAuthsomeError } from "../core/errors.ts";
import type { LoginInteraction } from "../flows/types.ts";
import { checkLocalRequest } from "./guard.ts";
import { callOperation, type OperationName, operations } from "./routes.ts";

/** Options for {@link createApp}. */
export interface AppOptions {
  /** The service for a profile (undefined = the default of the home or environment). */
  getService(profile: string | undefined): Promise<AuthService>;
  /** Bearer token required on every request but /v1/health (the daemon). */
  token?: string;
  /** How interactive logins reach the user (in-process use only). */
  interaction?: LoginInteraction;
  /**
   * The loopback port the app is served on (the daemon; read per request, as port 0 is only
   * known once listening). When set, src/server/guard.ts refuses foreign Host, foreign Origin
   * and non-JSON state-changing requests before any route runs.
   */
  listenPort?: () => number;
}

async function jsonBody(c: Context): Promise<Record<string, unknown>> {
  if (c.req.method === "GET" || c.req.method === "DELETE") return {};
  let body: unknown;
  try {
    body = await c.req.json();
  } catch {
    throw new AuthsomeError("usage", "the request body is not JSON");
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw new AuthsomeError("usage", "the request body must be a JSON object");
  return body as Record<string, unknown>;
}

/** The operation's input: query, then body, then path parameters (which win). */
async function gatherInput(c: Context): Promise<Record<string, unknown>> {
  const { profile: _profile, ...query } = c.req.query();
  return { ...query, ...(await jsonBody(c)), ...c.req.param() };
}

/** Builds the HTTP API app. */
export function createApp(options: AppOptions): Hono {
  const app = new Hono();
  app.onError((error, c) => {
    const failure = toAuthsomeError(error);
    return c.json(failure.toJSON(), failure.status as 400);
  });
  app.notFound((c) => c.json({ error: "usage", message: `no route ${c.req.method} ${c.req.path}` }, 404));
  const listenPort = options.listenPort;
  if (listenPort !== undefined) {
    app.use("*", async (c, next) => {
      // The dashboard's forms post url-encoded bodies; they carry a CSRF token instead (src/server/ui).
      checkLocalRequest(c.req, listenPort(), { json: !c.req.path.startsWith("/ui/") });
      return next();
    });
  }
  if (options.token !== undefined) {
    const expected = `Bearer ${options.token}`;
    app.use("/v1/*", async (c, next) => {
      if (c.req.path === "/v1/health") return next();
      if (!constantTimeEqual(c.req.header("authorization") ?? "", expected)) {
        return c.json({ error: "unauthorized", message: "missing or wrong bearer token" }, 401);
      }
      return next();
    });
  }
  for (const [name, operation] of Object.entries(operations)) {
    app.on(operation.method, operation.path, async (c) => {
      const service = await options.getService(c.req.header("x-authsome-profile") ?? c.req.query("profile"));
      const context = { service, ...(options.interaction === undefined ? {} : { interaction: options.interaction }) };
      const result = await callOperation(name as OperationName, await gatherInput(c), context);
      return c.json(result as object, operation.status ?? 200);
    });
  }
  return app;
}
