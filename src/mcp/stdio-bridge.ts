/**
 * `authsome mcp stdio <url>`: an MCP server on stdio for clients that only speak stdio (a
 * drop-in for `npx mcp-remote <url>`), relaying to the remote server with the token injected
 * and refreshed (src/mcp/remote.ts). stdout carries nothing but protocol, one JSON-RPC message
 * per line (the MCP stdio transport); everything else goes to stderr. The bridge ends when
 * stdin closes, after the messages in flight are answered (bounded).
 */
import { createInterface } from "node:readline";
import type { Readable, Writable } from "node:stream";
import type { AuthService } from "../core/auth-service.ts";
import { createAuditBatcher } from "../core/audit.ts";
import { injectionAuditEntry } from "../core/egress.ts";
import { AuthsomeError } from "../core/errors.ts";
import { resolveConnectionName } from "../core/service.ts";
import type { LoginInteraction } from "../flows/types.ts";
import { closeMcpFetch } from "./http.ts";
import { findServerByUrl, mcpServersOf } from "./server-store.ts";
import { RemoteSession } from "./remote.ts";
import { createTokenSource } from "./token-source.ts";

/** Options for {@link runStdioBridge}. */
export interface StdioBridgeOptions {
  service: AuthService;
  url: string;
  connection?: string;
  stdin: Readable;
  stdout: Writable;
  log(line: string): void;
  /** For re-authorization on a step-up (opens the browser); absent: the request fails instead. */
  interaction?: LoginInteraction;
}

/** How long in-flight messages may take to finish once stdin has closed. */
const DRAIN_MS = 10_000;

/** Runs the bridge until stdin closes; resolves with the exit code. */
export async function runStdioBridge(options: StdioBridgeOptions): Promise<number> {
  const server = await findServerByUrl(await mcpServersOf(options.service), options.url);
  if (server === null) {
    throw new AuthsomeError("provider_not_found", `no MCP server ${options.url} in this home`, { hint: `log in first: authsome login ${options.url}` });
  }
  const tokens = createTokenSource(options.service, server.name, options.connection);
  await tokens.get(); // fails now, on stderr, rather than on the client's first request
  const core = options.service.core;
  const connection = await resolveConnectionName(await core.vault(), server.name, options.connection);
  // Every request that carried the token is audited, as the proxy's are (batched off the path).
  const audit = createAuditBatcher((events) => core.recordMany(events));
  const tried = new Set<string>();
  const session = new RemoteSession(new URL(options.url), tokens, {
    message: (json) => void options.stdout.write(`${json.replaceAll("\n", " ")}\n`),
    log: options.log,
    injected: (host, method, status) => audit.add(injectionAuditEntry({ provider: server.name, connection, host, method, status })),
    reauthorize: async (scopes) => {
      const key = [...scopes].sort().join(" ");
      // Once per scope set: a server that keeps refusing gets an error, not a login loop.
      if (options.interaction === undefined || tried.has(key)) return false;
      tried.add(key);
      const { mcpLogin } = await import("./login.ts");
      await mcpLogin(options.service, { url: server.url, interaction: options.interaction, ...(options.connection === undefined ? {} : { connection: options.connection }) });
      return true;
    },
  });
  const inFlight = new Set<Promise<void>>();
  const lines = createInterface({ input: options.stdin, crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.trim() === "") continue;
    const sent = session.send(line).catch((error: unknown) => options.log(`authsome: ${error instanceof Error ? error.message : String(error)}`));
    inFlight.add(sent);
    void sent.finally(() => inFlight.delete(sent));
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([Promise.allSettled([...inFlight]), new Promise((resolve) => (timer = setTimeout(resolve, DRAIN_MS)))]);
  clearTimeout(timer);
  await session.close();
  await audit.flush();
  closeMcpFetch();
  return 0;
}
