/**
 * `authsome mcp list`: every MCP server of the home with its authorization server, how the
 * client identified itself, and each connection's status, scopes, expiry and whether a step-up
 * (a refusal for want of scope) is waiting for a login.
 */
import type { AuthService } from "../core/auth-service.ts";
import { readStepUp } from "./provider.ts";
import { mcpServersOf } from "./server-store.ts";

/** One connection of an MCP server as listed. */
export interface McpConnectionView {
  connection: string;
  status: string;
  scopes: string[];
  expires_at: string | null;
  /** Scopes a server asked for that the connection lacks; `authsome login <url>` asks for them. */
  step_up: string[] | null;
}

/** One MCP server as listed. */
export interface McpServerView {
  name: string;
  url: string;
  resource: string;
  issuer: string;
  client_identity: string;
  connections: McpConnectionView[];
}

/** Lists the home's MCP servers (the fleet's, with a shared store: server-store.ts) for the service's profile. */
export async function listMcpServers(service: AuthService): Promise<McpServerView[]> {
  const home = service.context.home;
  const vault = await service.core.vault();
  const views: McpServerView[] = [];
  for (const server of await (await mcpServersOf(service)).list()) {
    const stepUp = await readStepUp(home, server.name);
    const connections: McpConnectionView[] = [];
    for (const name of await vault.connectionNames(server.name)) {
      const meta = await vault.getMeta(server.name, name).catch(() => null);
      if (meta === null) continue;
      const asked = stepUp[`${service.context.profile}/${name}`]?.scopes ?? [];
      const missing = asked.filter((s) => !(meta.scopes ?? []).includes(s));
      connections.push({ connection: name, status: meta.status, scopes: meta.scopes ?? [], expires_at: meta.expiresAt ?? null, step_up: missing.length > 0 ? missing : null });
    }
    views.push({ name: server.name, url: server.url, resource: server.resource, issuer: server.issuer, client_identity: server.clientIdentity, connections });
  }
  return views;
}
