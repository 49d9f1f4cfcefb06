/**
 * Token refresh, safe when many agents need the same connection at once:
 *
 * 1. one refresh in flight per connection inside a process (a map of promises);
 * 2. a cross-process lock per connection (`vault.withConnectionLock`);
 * 3. after taking the lock, the record is read again and the refresh skipped when another
 *    process already did it, so a rotating refresh token is used exactly once (a second use
 *    looks like token theft to the provider, which then revokes the whole grant, RFC 9700 4.14);
 * 4. the rotated refresh token is written (one atomic `vault.write`) before the new access token
 *    is handed out.
 *
 * Spending the refresh token is the one step that cannot be undone, so it is fenced on both sides
 * (issue 14, "0 invalid_grant"; docs/fleet.md, "Outages"). Right before it, `holdLocksFor` proves
 * the connection lock is still ours and lengthens it to {@link SPENT_LEASE_MS}: a pause or an
 * outage longer than the lock's normal TTL no longer lets another holder spend the same token.
 * After it, the result is committed whatever became of that lock: under the provider lock, by a
 * compare on the record (it still holds the token we spent, or it is our own write), retried
 * through store outages and lock waits for the outage budget.
 *
 * The protocol request itself is the registered token operations' `renew` (src/flows/refresh.ts),
 * loaded only when a refresh is due. `invalid_grant` marks the connection `needs_login`.
 */
import { AuthsomeError, toAuthsomeError } from "./errors.ts";
import { loadTokenOperations, OAuthError, type TokenSet } from "./flow-registry.ts";
import type { ProviderPlugin } from "./plugin.ts";
import type { ConnectionMeta } from "./records.ts";
import { requireConnection, type ServiceCore } from "./service.ts";
import { needsRefresh } from "./tokens.ts";
import type { Connection, Vault } from "./vault.ts";
import { holdLocksFor, withoutFences } from "./lock.ts";
import { OUTAGE_BUDGET_MS, retryWhileUnavailable } from "./storage/retry.ts";

const _inFlight = new Map<string, Promise<Connection>>();

/**
 * How long the connection lock is kept, from the moment the refresh token is spent, without
 * renewals: the provider's answer plus the outage budget for storing it, with room to spare. A
 * holder that dies after spending blocks this one connection's refreshes that long at most.
 */
export const SPENT_LEASE_MS = 60_000;

/** Errors that leave a spent token's successor unstored but are worth another try: it exists nowhere else. */
const _STORE_RETRY = ["store_unavailable", "lock_timeout", "lock_lost"] as const;

/** The command that replaces a connection. */
export function loginCommand(provider: string, connection: string): string {
  return `authsome login ${provider}${connection === "default" ? "" : ` --connection ${connection}`} --force`;
}

/** The error saying a connection needs a new login, naming the command. */
export function needsLoginError(meta: ConnectionMeta, why: string): AuthsomeError {
  return new AuthsomeError("needs_login", `${meta.provider}/${meta.connection} needs a new login: ${why}`, {
    hint: `run: ${loginCommand(meta.provider, meta.connection)}`,
  });
}

/** Refreshes a connection's access token; concurrent callers in this process share one refresh. */
export function refreshConnection(core: ServiceCore, plugin: ProviderPlugin, found: Connection): Promise<Connection> {
  const key = [core.context.home, core.context.profile, plugin.name, found.meta.connection].join("\u0000");
  const running = _inFlight.get(key);
  if (running !== undefined) return running;
  const started = _refreshLocked(core, plugin, found.meta.connection).finally(() => _inFlight.delete(key));
  _inFlight.set(key, started);
  return started;
}

async function _refreshLocked(core: ServiceCore, plugin: ProviderPlugin, connection: string): Promise<Connection> {
  const vault = await core.vault();
  const operations = await loadTokenOperations();
  return vault.withConnectionLock(plugin.name, connection, async () => {
    const current = await requireConnection(vault, plugin.name, connection);
    if (!needsRefresh(current, core.context.refreshMarginSeconds)) return current;
    if (current.meta.status === "needs_login") throw needsLoginError(current.meta, current.meta.statusReason ?? "its token expired");
    const event = { action: "refresh", provider: plugin.name, connection } as const;
    try {
      const client = await vault.getClient(plugin.name);
      await holdLocksFor(SPENT_LEASE_MS);
      const tokens = await operations.renew(plugin, current, client);
      // The old refresh token is spent: the new one must reach the store (storage/retry.ts).
      const next = await withoutFences(() => retryWhileUnavailable(() => _store(vault, current, tokens), OUTAGE_BUDGET_MS, _STORE_RETRY));
      await core.record({ ...event, outcome: "ok" });
      return next;
    } catch (error) {
      const failure = error instanceof OAuthError && error.oauthCode === "invalid_grant" ? await _markNeedsLogin(vault, current, error) : _asRefreshError(error, current.meta);
      await core.record({ ...event, outcome: "error", error: failure.code }).catch(() => {});
      throw failure;
    }
  });
}

/**
 * Whether the refreshed tokens belong in `latest`, the record as it is now. Unchanged: yes.
 * Changed but still holding the refresh token we spent (another writer touched its metadata, or
 * our lock lapsed meanwhile): yes, or the only valid successor of that token is lost. Holding
 * another refresh token (our own earlier attempt, its answer lost in an outage; or a new login),
 * or marked `needs_login` (a later reuse of the spent token revoked the grant): no, it wins.
 */
function _belongs(latest: Connection, current: Connection, tokens: TokenSet): boolean {
  if (latest.meta.updatedAt === current.meta.updatedAt) return true;
  const spent = current.secrets.refresh_token;
  if (spent === undefined || latest.secrets.refresh_token !== spent) return false;
  return latest.meta.status !== "needs_login";
}

/** Writes the new tokens into the record as it is now, unless it is no longer theirs (a new login or a logout wins). */
async function _store(vault: Vault, current: Connection, tokens: TokenSet): Promise<Connection> {
  const { meta } = current;
  return vault.withProviderLock(meta.provider, async () => {
    const latest = await vault.read(meta.provider, meta.connection);
    if (latest === null) throw new AuthsomeError("connection_not_found", `${meta.provider}/${meta.connection} was removed during the refresh`);
    if (!_belongs(latest, current, tokens)) {
      // Revoked meanwhile (our pause outlasted even the spent lease): say so, not "refreshed".
      if (latest.meta.status === "needs_login") throw needsLoginError(latest.meta, latest.meta.statusReason ?? "its grant was revoked during the refresh");
      return latest;
    }
    const { statusReason: _dropped, expiresAt: _old, ...rest } = latest.meta;
    const next: Connection = {
      meta: {
        ...rest,
        status: "connected",
        updatedAt: new Date().toISOString(),
        ...(tokens.expiresAt === undefined ? {} : { expiresAt: tokens.expiresAt }),
        ...(tokens.scopes === undefined ? {} : { scopes: tokens.scopes }),
      },
      secrets: {
        ...latest.secrets,
        access_token: tokens.accessToken,
        // RFC 6749 6: without a new refresh token in the response, the old one stays valid.
        ...(tokens.refreshToken === undefined ? {} : { refresh_token: tokens.refreshToken }),
        ...(tokens.idToken === undefined ? {} : { id_token: tokens.idToken }),
      },
    };
    await vault.write(next.meta, next.secrets);
    return next;
  });
}

/** Records that the grant is gone, and returns the error naming the login command. */
async function _markNeedsLogin(vault: Vault, current: Connection, error: OAuthError): Promise<AuthsomeError> {
  const reason = `the provider rejected the refresh token (${error.oauthCode}${error.description === undefined ? "" : `: ${error.description}`})`;
  await vault.withProviderLock(current.meta.provider, async () => {
    const latest = await vault.getMeta(current.meta.provider, current.meta.connection);
    if (latest === null || latest.updatedAt !== current.meta.updatedAt) return;
    await vault.write({ ...current.meta, status: "needs_login", statusReason: reason, updatedAt: new Date().toISOString() }, current.secrets);
  });
  return needsLoginError(current.meta, reason);
}

function _asRefreshError(error: unknown, meta: ConnectionMeta): AuthsomeError {
  const failure = toAuthsomeError(error);
  if (failure.code !== "provider_error") return failure;
  return new AuthsomeError("refresh_failed", failure.message, { cause: error, hint: `try again later, or log in again: ${loginCommand(meta.provider, meta.connection)}` });
}
