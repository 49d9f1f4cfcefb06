/**
 * The CLI's way to the `/v1` API: the same routes and handlers the daemon serves, dispatched
 * in-process by method and path (src/server/routes.ts). Results pass through a JSON round trip
 * so the CLI sees exactly what an HTTP client would.
 */
import type { AuthService } from "../core/auth-service.ts";
import { AuthsomeError } from "../core/errors.ts";
import type { LoginInteraction } from "../flows/types.ts";

/** Calls the API. */
export interface ApiClient {
  get<T = unknown>(path: string, query?: Record<string, string | undefined>): Promise<T>;
  post<T = unknown>(path: string, body: unknown): Promise<T>;
  delete<T = unknown>(path: string, query?: Record<string, string | undefined>): Promise<T>;
}

/** Options for {@link createInProcessClient}. */
export interface ClientOptions {
  profile: string | undefined;
  actor: string;
  interaction: LoginInteraction;
}

/** Builds a client that dispatches API calls in this process. */
export function createInProcessClient(options: ClientOptions): ApiClient {
  let service: Promise<AuthService> | undefined;
  const getService = async () => {
    const { createAuthService } = await import("../core/auth-service.ts");
    return (service ??= createAuthService({ actor: options.actor, ...(options.profile === undefined ? {} : { profile: options.profile }) }));
  };
  const call = async <T>(method: "GET" | "POST" | "DELETE", path: string, query: Record<string, string | undefined> = {}, body?: unknown): Promise<T> => {
    const { findRoute } = await import("../server/routes.ts");
    const found = findRoute(method, path);
    if (found === null) throw new AuthsomeError("internal", `no API route ${method} ${path}`);
    const result = await found.route.handler({
      service: await getService(),
      params: found.params,
      query,
      body: body === undefined ? undefined : JSON.parse(JSON.stringify(body)),
      interaction: options.interaction,
    });
    return JSON.parse(JSON.stringify(result ?? null)) as T;
  };
  return {
    get: (path, query) => call("GET", path, query),
    post: (path, body) => call("POST", path, {}, body),
    delete: (path, query) => call("DELETE", path, query),
  };
}
