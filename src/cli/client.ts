/**
 * The CLI's way to the `/v1` API: in-process through `app.request()`, so every command is a
 * thin client of the same API the daemon serves. Error bodies become AuthsomeErrors again.
 */
import * as v from "valibot";
import type { AuthService } from "../core/auth-service.ts";
import { AuthsomeError, isErrorCode } from "../core/errors.ts";
import type { LoginInteraction } from "../flows/types.ts";

/** Calls the API. */
export interface ApiClient {
  get<T = unknown>(path: string, query?: Record<string, string | undefined>): Promise<T>;
  post<T = unknown>(path: string, body: unknown): Promise<T>;
  delete<T = unknown>(path: string, query?: Record<string, string | undefined>): Promise<T>;
}

const ErrorBody = v.object({ error: v.string(), message: v.string(), hint: v.optional(v.string()) });

/** Options for {@link createInProcessClient}. */
export interface ClientOptions {
  profile: string | undefined;
  actor: string;
  interaction: LoginInteraction;
}

/** Builds a client whose requests go to an in-process Hono app. */
export function createInProcessClient(options: ClientOptions): ApiClient {
  let app: Promise<{ request(path: string, init: RequestInit): Response | Promise<Response> }> | undefined;
  const services = new Map<string, Promise<AuthService>>();
  const load = () =>
    (app ??= (async () => {
      const [{ createApp }, { createAuthService }] = await Promise.all([import("../server/app.ts"), import("../core/auth-service.ts")]);
      return createApp({
        interaction: options.interaction,
        getService: (profile) => {
          const key = profile ?? "";
          let service = services.get(key);
          if (service === undefined) {
            service = createAuthService({ actor: options.actor, ...(profile === undefined ? {} : { profile }) });
            services.set(key, service);
          }
          return service;
        },
      });
    })());
  const call = async <T>(method: string, path: string, query?: Record<string, string | undefined>, body?: unknown): Promise<T> => {
    const search = new URLSearchParams(Object.entries(query ?? {}).filter((e): e is [string, string] => e[1] !== undefined));
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (options.profile !== undefined) headers["x-authsome-profile"] = options.profile;
    const init: RequestInit = { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) };
    const response = await (await load()).request(`${path}${search.size ? `?${search}` : ""}`, init);
    const payload: unknown = await response.json();
    if (response.ok) return payload as T;
    const error = v.safeParse(ErrorBody, payload);
    if (!error.success) throw new AuthsomeError("internal", `the API answered ${response.status}`);
    const code = isErrorCode(error.output.error) ? error.output.error : "internal";
    throw new AuthsomeError(code, error.output.message, error.output.hint === undefined ? {} : { hint: error.output.hint });
  };
  return {
    get: (path, query) => call("GET", path, query),
    post: (path, body) => call("POST", path, undefined, body),
    delete: (path, query) => call("DELETE", path, query),
  };
}
