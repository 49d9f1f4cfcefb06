/**
 * Where the stdio bridge (and step-up recording) get and drop an MCP server's token. Getting
 * goes through the core's read path, which refreshes an expiring token single-flight in the
 * process and under the cross-process connection lock, so many bridges refresh a rotating
 * token once. Dropping marks a token the server refused (401) as expired, only if it is still
 * the stored one: the next get then refreshes, and a bridge that lost the race to another
 * process's refresh simply reads the new token.
 */
import type { AuthService } from "../core/auth-service.ts";
import { getAccessToken } from "../core/connections.ts";
import { resolveConnectionName } from "../core/service.ts";
import { expireToken, noteStepUp } from "./step-up.ts";

/** A connection's token for one MCP server. */
export interface TokenSource {
  /** The current token, refreshed first when it is about to expire. */
  get(): Promise<string>;
  /** The server refused `token` (401): expire it so the next `get` refreshes. */
  invalidate(token: string): Promise<void>;
  /** A refusal for want of scope: audit it and record it for `mcp list` and the next login. */
  stepUp(scopes: string[], host: string, method: string, status: number): Promise<void>;
}

/** The token source of `provider`'s connection (its default when unnamed). */
export function createTokenSource(service: AuthService, provider: string, connection?: string): TokenSource {
  const core = service.core;
  const options = connection === undefined ? {} : { connection };
  const name = async () => resolveConnectionName(await core.vault(), provider, connection);
  return {
    get: () => getAccessToken(core, provider, options),
    async invalidate(token) {
      await expireToken(core, provider, await name(), (stored) => stored === token);
    },
    async stepUp(scopes, host, method, status) {
      await noteStepUp(core, provider, await name(), scopes, host, method, status);
    },
  };
}
