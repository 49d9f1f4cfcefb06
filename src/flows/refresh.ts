/**
 * Token refresh. Until the OAuth flows land, an expiring token cannot be renewed here and the
 * connection needs a new login.
 */
import { AuthsomeError } from "../core/errors.ts";
import type { ProviderPlugin } from "../core/plugin.ts";
import type { ServiceCore } from "../core/service.ts";
import type { Connection } from "../core/vault.ts";

/** Refreshes a connection's access token (or reports that a new login is needed). */
export async function refreshConnection(_core: ServiceCore, plugin: ProviderPlugin, found: Connection): Promise<Connection> {
  throw new AuthsomeError("needs_login", `the ${plugin.name}/${found.meta.connection} token has expired`, {
    hint: `log in again: authsome login ${plugin.name} --connection ${found.meta.connection} --force`,
  });
}
