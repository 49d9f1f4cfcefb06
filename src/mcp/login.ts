/**
 * `authsome login <url>`: discovery, the provider written for the server, client identity,
 * then the ordinary PKCE login of that provider (the flow sends `resource`, RFC 8707). A
 * pending step-up (a server refused a request for want of scope) makes this login ask for the
 * union of the connection's scopes and the ones asked for, and replace that connection.
 */
import type { AuthService } from "../core/auth-service.ts";
import { AuthsomeError } from "../core/errors.ts";
import type { ConnectionView } from "../core/views.ts";
import { resolveRedirectUri } from "../flows/redirect.ts";
import type { LoginInteraction } from "../flows/types.ts";
import { resolveClient } from "./client-identity.ts";
import { discoverMcpServer, parseServerUrl } from "./discovery.ts";
import { clearStepUp, deriveName, pluginFor, readStepUp } from "./provider.ts";
import { findServerByUrl, type McpServers, mcpServersOf } from "./server-store.ts";

/** Options for {@link mcpLogin}. */
export interface McpLoginOptions {
  url: string;
  name?: string;
  connection?: string;
  force?: boolean;
  scopes?: string[];
  clientId?: string;
  clientMetadataUrl?: string;
  interaction: LoginInteraction;
  timeoutMs?: number;
  redirectPort?: number;
}

/** What the login did. */
export interface McpLoginResult extends ConnectionView {
  server: { name: string; url: string; resource: string; issuer: string; client_identity: string };
}

/** The provider name for a URL: `--name`, the server's earlier name, else derived; never someone else's provider. */
async function _pickName(service: AuthService, servers: McpServers, url: URL, wanted: string | undefined): Promise<string> {
  const known = await findServerByUrl(servers, url.href);
  if (known !== null && wanted === undefined) return known.name;
  const name = wanted ?? deriveName(url);
  const existing = await servers.read(name);
  if (existing !== null && existing.url !== url.href && wanted === undefined) {
    throw new AuthsomeError("provider_exists", `the provider name "${name}" is taken by the MCP server ${existing.url}`, { hint: `choose another: authsome login ${url.href} --name NAME` });
  }
  if (existing === null && (await service.core.registry.names()).includes(name)) {
    throw new AuthsomeError("provider_exists", `provider "${name}" already exists and is not an MCP server`, { hint: `choose another: authsome login ${url.href} --name NAME` });
  }
  return name;
}

/** The scopes to ask for: `--scopes`; else the 401's, else the resource's; plus any pending step-up and the connection's own. */
async function _scopes(service: AuthService, name: string, connection: string, asked: string[] | undefined, fallback: string[]): Promise<{ scopes: string[]; stepUp: boolean }> {
  const key = `${service.context.profile}/${connection}`;
  const pending = (await readStepUp(service.context.home, name))[key];
  if (pending === undefined) return { scopes: asked ?? fallback, stepUp: false };
  const vault = await service.core.vault();
  const current = await vault.getMeta(name, connection).catch(() => null);
  return { scopes: [...new Set([...(asked ?? current?.scopes ?? fallback), ...pending.scopes])], stepUp: true };
}

/** Logs in to an MCP server by URL; the server becomes (or stays) a provider of the home. */
export async function mcpLogin(service: AuthService, options: McpLoginOptions): Promise<McpLoginResult> {
  const url = parseServerUrl(options.url);
  const home = service.context.home;
  const servers = await mcpServersOf(service);
  const name = await _pickName(service, servers, url, options.name);
  const connection = options.connection ?? "default";
  const pending = (await readStepUp(home, name))[`${service.context.profile}/${connection}`] !== undefined;
  // Refused before discovery and registration, as `login <provider>` refuses before its flow.
  if (options.force !== true && !pending && (await (await service.core.vault()).getMeta(name, connection).catch(() => null)) !== null) {
    throw new AuthsomeError("connection_exists", `${name} already has a connection "${connection}"`, { hint: "add --force to replace it, or pick another name with --connection" });
  }
  const found = await discoverMcpServer(url);
  const { scopes, stepUp } = await _scopes(service, name, connection, options.scopes, found.challengeScopes.length > 0 ? found.challengeScopes : found.scopesSupported);
  if (stepUp) options.interaction.notify(`${name} asked for more scope; requesting: ${scopes.join(" ")}`);
  const plugin = pluginFor(name, found, scopes);
  const vault = await service.core.vault();
  const others = (await servers.list()).filter((s) => s.issuer === found.authorizationServer.issuer && s.name !== name).map((s) => s.name);
  const client = await resolveClient({
    as: found.authorizationServer,
    redirectUri: resolveRedirectUri(plugin, options.redirectPort),
    vault,
    provider: name,
    sameIssuer: others,
    ...(options.clientId === undefined ? {} : { clientId: options.clientId }),
    ...(options.clientMetadataUrl === undefined ? {} : { clientMetadataUrl: options.clientMetadataUrl }),
    notify: (m) => options.interaction.notify(m),
  });
  await servers.writePlugin(plugin, found.url);
  await servers.write({
    name, url: found.url, resource: found.resource, resourceMetadataUrl: found.resourceMetadataUrl,
    ...(found.resourceName === undefined ? {} : { resourceName: found.resourceName }),
    issuer: found.authorizationServer.issuer, scopesSupported: found.scopesSupported, clientIdentity: client.identity, updatedAt: new Date().toISOString(),
  });
  if (client.save !== null) await vault.setClient(name, client.save);
  const view = await service.login(name, {
    flow: "pkce", connection, force: options.force === true || stepUp, scopes, interaction: options.interaction,
    ...(client.identity === "client_id" ? { clientId: client.clientId } : {}),
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    ...(options.redirectPort === undefined ? {} : { redirectPort: options.redirectPort }),
  });
  if (stepUp) await clearStepUp(home, name, `${service.context.profile}/${connection}`);
  return { ...view, server: { name, url: found.url, resource: found.resource, issuer: found.authorizationServer.issuer, client_identity: client.identity } };
}
