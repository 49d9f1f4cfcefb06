/**
 * `authsome mcp import mcp-remote`: moves mcp-remote's plaintext tokens into the vault.
 *
 * mcp-remote (github.com/geelen/mcp-remote, src/lib/mcp-auth-config.ts) keeps, per server,
 * `<dir>/mcp-remote-<version>/<md5(url[|resource][|headers])>_tokens.json` (an OAuthTokens
 * object: access_token, refresh_token, expires_in counted from the file's write) and
 * `..._client_info.json` (its registered client), where `<dir>` is `$MCP_REMOTE_CONFIG_DIR` or
 * `~/.mcp-auth`. It stores the URL only as that hash, so a file maps to a server only when its
 * URL is known: a server of this home, or one named with `--url` (discovered, not logged in).
 * What cannot be mapped is refused with the reason; what was imported is listed for deletion.
 */
import { createHash } from "node:crypto";
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import * as v from "valibot";
import type { AuthService } from "../core/auth-service.ts";
import { readRegularFile } from "../core/files.ts";
import type { ConnectionMeta, Secrets } from "../core/records.ts";
import { getEnv, userHome } from "../runtime/index.ts";
import { registrationKey } from "./client-identity.ts";
import { discoverMcpServer, parseServerUrl } from "./discovery.ts";
import { deriveName, type McpServerRecord, pluginFor } from "./provider.ts";
import { mcpServersOf } from "./server-store.ts";

const TokensSchema = v.object({
  access_token: v.pipe(v.string(), v.nonEmpty()),
  token_type: v.optional(v.string()),
  expires_in: v.optional(v.number()),
  refresh_token: v.optional(v.string()),
  scope: v.optional(v.string()),
});
const ClientInfoSchema = v.object({ client_id: v.pipe(v.string(), v.nonEmpty()), client_secret: v.optional(v.string()), redirect_uris: v.optional(v.array(v.string())) });

/** What an import did. */
export interface ImportReport {
  dir: string;
  imported: { url: string; provider: string; connection: string }[];
  refused: { file: string; reason: string }[];
  /** Plaintext files whose content is now in the vault. */
  deletable: string[];
}

/** Options for {@link importMcpRemote}. */
export interface ImportOptions {
  dir?: string;
  /** Server URLs to match files against besides the home's MCP servers (discovered if new). */
  urls?: string[];
  connection?: string;
}

/** mcp-remote's file name for a server: the MD5 of its URL (mcp-remote's getServerUrlHash). */
export function mcpRemoteHash(url: string, resource?: string): string {
  return createHash("md5").update(resource === undefined ? url : `${url}|${resource}`).digest("hex");
}

async function _files(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    if (entry.isDirectory() && entry.name.startsWith("mcp-remote-")) {
      for (const name of await readdir(join(dir, entry.name)).catch(() => [])) found.push(join(dir, entry.name, name));
    } else if (entry.isFile()) found.push(join(dir, entry.name));
  }
  return found;
}

async function _json<T extends v.GenericSchema>(schema: T, file: string): Promise<v.InferOutput<T> | null> {
  try {
    const parsed = v.safeParse(schema, JSON.parse(await readRegularFile(file, 256 * 1024)));
    return parsed.success ? parsed.output : null;
  } catch {
    return null;
  }
}

/** The servers files can map to: the home's, plus `--url` ones (discovered and stored as providers). */
async function _candidates(service: AuthService, urls: string[]): Promise<McpServerRecord[]> {
  const servers = await mcpServersOf(service);
  const known = await servers.list();
  for (const text of urls) {
    const url = parseServerUrl(text);
    if (known.some((s) => s.url === url.href)) continue;
    const found = await discoverMcpServer(url);
    const plugin = pluginFor(deriveName(url), found, found.challengeScopes.length > 0 ? found.challengeScopes : found.scopesSupported);
    await servers.writePlugin(plugin, found.url);
    const record: McpServerRecord = { name: plugin.name, url: found.url, resource: found.resource, resourceMetadataUrl: found.resourceMetadataUrl, issuer: found.authorizationServer.issuer, scopesSupported: found.scopesSupported, clientIdentity: "registration", updatedAt: new Date().toISOString() };
    await servers.write(record);
    known.push(record);
  }
  return known;
}

/** Imports mcp-remote's token files. */
export async function importMcpRemote(service: AuthService, options: ImportOptions = {}): Promise<ImportReport> {
  const dir = options.dir ?? getEnv("MCP_REMOTE_CONFIG_DIR") ?? join(userHome(), ".mcp-auth");
  const report: ImportReport = { dir, imported: [], refused: [], deletable: [] };
  const files = await _files(dir);
  const servers = await _candidates(service, options.urls ?? []);
  for (const file of files.filter((f) => f.endsWith("_tokens.json"))) {
    const hash = /([0-9a-f]{32})_tokens\.json$/.exec(file)?.[1];
    const server = servers.find((s) => mcpRemoteHash(s.url) === hash || mcpRemoteHash(s.url, s.resource) === hash);
    if (hash === undefined || server === undefined) {
      report.refused.push({ file, reason: "mcp-remote keeps only a hash of the server URL and it matches no MCP server of this home: pass --url URL (or log in to the server first)" });
      continue;
    }
    const tokens = await _json(TokensSchema, file);
    if (tokens === null) {
      report.refused.push({ file, reason: "not an OAuth token file (no access_token)" });
      continue;
    }
    const clientFile = file.replace(/_tokens\.json$/, "_client_info.json");
    const client = await _json(ClientInfoSchema, clientFile);
    const outcome = await _store(service, server, tokens, client, (await stat(file)).mtimeMs, options.connection ?? "default");
    if (outcome !== null) {
      report.refused.push({ file, reason: outcome });
      continue;
    }
    report.imported.push({ url: server.url, provider: server.name, connection: options.connection ?? "default" });
    report.deletable.push(...files.filter((f) => f.includes(`${hash}_`)));
  }
  return report;
}

/** Writes one imported connection; returns why not when it cannot. */
async function _store(service: AuthService, server: McpServerRecord, tokens: v.InferOutput<typeof TokensSchema>, client: v.InferOutput<typeof ClientInfoSchema> | null, writtenAt: number, connection: string): Promise<string | null> {
  if (tokens.refresh_token !== undefined && client === null) return "a refresh token without its client (no _client_info.json): it could never be used";
  const vault = await service.core.vault();
  const now = new Date().toISOString();
  const meta: ConnectionMeta = {
    provider: server.name, connection, authType: "oauth2", flow: "pkce", status: "connected", createdAt: now, updatedAt: now,
    ...(tokens.scope === undefined ? {} : { scopes: tokens.scope.split(/\s+/).filter(Boolean) }),
    // expires_in counts from when mcp-remote wrote the file.
    ...(tokens.expires_in === undefined ? {} : { expiresAt: new Date(writtenAt + tokens.expires_in * 1000).toISOString() }),
    ...(tokens.token_type === undefined ? {} : { tokenType: tokens.token_type }),
    ...(client === null ? {} : { clientId: client.client_id }),
  };
  const secrets: Secrets = { access_token: tokens.access_token, ...(tokens.refresh_token === undefined ? {} : { refresh_token: tokens.refresh_token }) };
  return vault.withProviderLock(server.name, async () => {
    if ((await vault.getMeta(server.name, connection)) !== null) return `${server.name} already has a connection "${connection}" (remove it, or import under another name with --connection)`;
    // The connection names its client (meta.clientId); the saved client slot is only filled when
    // empty, so a registration authsome made itself stays for its own logins.
    const saved = await vault.getClient(server.name);
    if (client?.client_secret !== undefined && saved !== null && saved.client_id !== client.client_id) return "its client has a secret and another client is already saved for this server";
    if (client !== null && saved === null) await vault.setClient(server.name, { client_id: client.client_id, ...(client.client_secret === undefined ? {} : { client_secret: client.client_secret }), registered_for: registrationKey(server.issuer, client.redirect_uris?.[0] ?? "") });
    await vault.write(meta, secrets);
    if ((await vault.getDefault(server.name)) === undefined) await vault.setDefault(server.name, connection);
    await service.core.record({ action: "mcp_import", provider: server.name, connection, outcome: "ok" });
    return null;
  });
}
