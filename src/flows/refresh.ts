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
 * `invalid_grant` marks the connection `needs_login`. Client-credentials connections have no
 * refresh token: a new token is acquired with the saved client instead.
 */
import { AuthsomeError, toAuthsomeError } from "../core/errors.ts";
import type { ProviderPlugin } from "../core/plugin.ts";
import type { ConnectionMeta } from "../core/records.ts";
import { requireConnection, type ServiceCore } from "../core/service.ts";
import { needsRefresh } from "../core/tokens.ts";
import type { Connection, Vault } from "../core/vault.ts";
import { clientForConnection } from "./app-client.ts";
import { acquireClientToken } from "./client-credentials.ts";
import { requireEndpoint, resolveEndpoints } from "./discovery.ts";
import { OAuthError, type TokenSet } from "./oauth-http.ts";
import { refreshTokens } from "./token-client.ts";

const _inFlight = new Map<string, Promise<Connection>>();

/** The command that replaces a connection. */
export function loginCommand(provider: string, connection: string): string {
  return `authsome login ${provider}${connection === "default" ? "" : ` --connection ${connection}`} --force`;
}

function _needsLogin(meta: ConnectionMeta, why: string): AuthsomeError {
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
  return vault.withConnectionLock(plugin.name, connection, async () => {
    const current = await requireConnection(vault, plugin.name, connection);
    if (!needsRefresh(current, core.context.refreshMarginSeconds)) return current;
    if (current.meta.status === "needs_login") throw _needsLogin(current.meta, current.meta.statusReason ?? "its token expired");
    const event = { action: "refresh", provider: plugin.name, connection } as const;
    try {
      const next = await _store(vault, current, await _renew(vault, plugin, current));
      await core.record({ ...event, outcome: "ok" });
      return next;
    } catch (error) {
      const failure = error instanceof OAuthError && error.oauthCode === "invalid_grant" ? await _markNeedsLogin(vault, current, error) : _asRefreshError(error, current.meta);
      await core.record({ ...event, outcome: "error", error: failure.code }).catch(() => {});
      throw failure;
    }
  });
}

/** Gets new tokens: a refresh-token grant, or client credentials again. */
async function _renew(vault: Vault, plugin: ProviderPlugin, current: Connection): Promise<TokenSet> {
  const { meta, secrets } = current;
  const client = clientForConnection(plugin, meta.clientId, await vault.getClient(plugin.name));
  const name = plugin.displayName ?? plugin.name;
  if (meta.flow === "client_credentials") {
    if (client.clientSecret === undefined) throw _needsLogin(meta, "the client secret is no longer saved");
    return acquireClientToken(plugin, meta.baseUrl, client, meta.scopes ?? plugin.oauth?.scopes ?? []);
  }
  if (secrets.refresh_token === undefined) throw _needsLogin(meta, `its token expired and ${name} gave no refresh token`);
  const tokenUrl = requireEndpoint(await resolveEndpoints(plugin, meta.baseUrl), "tokenUrl", plugin, "refresh");
  return refreshTokens(tokenUrl, client, secrets.refresh_token, `${name} refused the token refresh`);
}

/** Writes the new tokens, unless the record changed meanwhile (a new login or a logout wins). */
async function _store(vault: Vault, current: Connection, tokens: TokenSet): Promise<Connection> {
  const { meta } = current;
  return vault.withProviderLock(meta.provider, async () => {
    const latest = await vault.read(meta.provider, meta.connection);
    if (latest === null) throw new AuthsomeError("connection_not_found", `${meta.provider}/${meta.connection} was removed during the refresh`);
    if (latest.meta.updatedAt !== meta.updatedAt) return latest;
    const { statusReason: _dropped, expiresAt: _old, ...rest } = meta;
    const next: Connection = {
      meta: {
        ...rest,
        status: "connected",
        updatedAt: new Date().toISOString(),
        ...(tokens.expiresAt === undefined ? {} : { expiresAt: tokens.expiresAt }),
        ...(tokens.scopes === undefined ? {} : { scopes: tokens.scopes }),
      },
      secrets: {
        ...current.secrets,
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
  return _needsLogin(current.meta, reason);
}

function _asRefreshError(error: unknown, meta: ConnectionMeta): AuthsomeError {
  const failure = toAuthsomeError(error);
  if (failure.code !== "provider_error") return failure;
  return new AuthsomeError("refresh_failed", failure.message, { cause: error, hint: `try again later, or log in again: ${loginCommand(meta.provider, meta.connection)}` });
}
