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
import { recordStepUp } from "./provider.ts";

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
      const vault = await core.vault();
      const which = await name();
      // Under the connection lock a refresh holds from its read to its write: marking the record
      // in between would make that refresh drop its rotated refresh token (it keeps a record
      // changed meanwhile), and the next refresh would replay the used one.
      await vault.withConnectionLock(provider, which, () =>
        vault.withProviderLock(provider, async () => {
          const found = await vault.read(provider, which);
          if (found === null || found.secrets.access_token !== token) return;
          await vault.write({ ...found.meta, expiresAt: new Date(0).toISOString(), updatedAt: new Date().toISOString() }, found.secrets);
        }));
    },
    async stepUp(scopes, host, method, status) {
      const which = await name();
      await recordStepUp(service.context.home, provider, `${service.context.profile}/${which}`, scopes, host);
      await core.record({ action: "mcp_step_up", provider, connection: which, host, method, status, outcome: "denied", error: "insufficient_scope" });
    },
  };
}
