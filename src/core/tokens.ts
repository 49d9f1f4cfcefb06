/**
 * Keeping tokens fresh: a connection whose access token expires within the refresh margin is
 * refreshed before use. The refresh itself (single-flight in a process, a cross-process lock per
 * connection, re-read after the lock) lives in src/core/refresh.ts and the protocol request in
 * the registered token operations (src/flows/refresh.ts), both loaded only when needed.
 */
import type { ProviderPlugin } from "./plugin.ts";
import type { ServiceCore } from "./service.ts";
import type { Connection } from "./vault.ts";

/** True when the connection's access token expires within `marginSeconds`. */
export function needsRefresh(found: Connection, marginSeconds: number, now = Date.now()): boolean {
  if (found.meta.authType !== "oauth2" || found.meta.expiresAt === undefined) return false;
  return Date.parse(found.meta.expiresAt) - now <= marginSeconds * 1000;
}

/** Returns the connection, refreshed first when its token is about to expire. */
export async function ensureFresh(core: ServiceCore, plugin: ProviderPlugin, found: Connection): Promise<Connection> {
  if (!needsRefresh(found, core.context.refreshMarginSeconds)) return found;
  const { refreshConnection } = await import("./refresh.ts");
  return refreshConnection(core, plugin, found);
}
