/**
 * The CLI's way to the `/v1` API: the operations of src/server/routes.ts called by name, in
 * this process, with typed inputs and outputs (`api.call("getConnection", { provider })`).
 * Inputs and results pass through a JSON round trip so the CLI sees exactly what an HTTP client
 * of the daemon would.
 */
import type { AuthService } from "../core/auth-service.ts";
import type { LoginInteraction } from "../flows/types.ts";
import type { OperationInput, OperationName, OperationOutput } from "../server/routes.ts";

/** Calls the API's operations. */
export interface ApiClient {
  /** Runs operation `name` with `input` (parsed by the operation's schema, as over HTTP). */
  call<K extends OperationName>(name: K, input: OperationInput<K>): Promise<OperationOutput<K>>;
}

/** Options for {@link createInProcessClient}. */
export interface ClientOptions {
  profile: string | undefined;
  actor: string;
  interaction: LoginInteraction;
}

/**
 * Starts loading the API's modules (routes, valibot, the service) without waiting. main() calls
 * it while the command's own module loads: the two chains of dynamic imports then overlap
 * instead of running one after the other (about 10 ms of a `get`'s start-up on Node 20).
 */
export function prefetchApi(): void {
  void import("../server/routes.ts").catch(() => {});
  void import("../core/auth-service.ts").catch(() => {});
}

/** Builds a client that runs API operations in this process. */
export function createInProcessClient(options: ClientOptions): ApiClient {
  let service: Promise<AuthService> | undefined;
  const getService = async () => {
    const { createAuthService } = await import("../core/auth-service.ts");
    return (service ??= createAuthService({ actor: options.actor, askPassphrase: true, ...(options.profile === undefined ? {} : { profile: options.profile }) }));
  };
  return {
    async call(name, input) {
      // Loaded on first use: `authsome --help` and parse errors never load valibot or the service.
      const { callOperation } = await import("../server/routes.ts");
      const result = await callOperation(name, JSON.parse(JSON.stringify(input)), { service: await getService(), interaction: options.interaction });
      return JSON.parse(JSON.stringify(result ?? null)) as OperationOutput<typeof name>;
    },
  };
}
