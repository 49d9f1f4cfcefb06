/**
 * The MCP CLI tests' setup: a temporary home whose environment reaches the test MCP servers
 * (`<host>:PORT` resolved to 127.0.0.1, their CA trusted as an upstream CA), the scripted
 * browser for the OAuth step, and a free redirect port.
 */
import { rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli, tempHome, type CliResult } from "./cli.ts";
import type { TestMcpServer } from "./mcp-server.ts";
import { browserEnv, freePort } from "./oidc-server.ts";

/** A home ready for MCP logins. */
export interface McpHome {
  home: Awaited<ReturnType<typeof tempHome>>;
  env: Record<string, string>;
  browserLog: string;
  /** `authsome <args>` in this home. */
  cli(args: string[], extra?: { env?: Record<string, string>; input?: string }): Promise<CliResult>;
  /** `authsome login <url> --redirect-port P` in this home (one port per home, as a user's is stable). */
  login(url: string, args?: string[]): Promise<CliResult>;
  cleanup(): Promise<void>;
}

/** Makes a home that trusts and resolves `servers`. */
export async function startMcpHome(servers: TestMcpServer[]): Promise<McpHome> {
  const home = await tempHome("authsome-mcp-");
  const caFile = join(home.home, "mcp-ca.pem");
  await writeFile(caFile, servers.map((s) => s.caPem).join("\n"));
  const resolve = servers.map((s) => `${new URL(s.origin).hostname}:${s.port}:127.0.0.1`).join(",");
  // Outside the home: the scripted browser may still append its last line after the login
  // ended, and must not race the home's removal.
  const browserLog = join(tmpdir(), `authsome-mcp-browser-${process.pid}-${Math.random().toString(36).slice(2)}.log`);
  const port = await freePort();
  // The redirect port in the environment too: a bridge's re-authorization uses the same one.
  const env = { ...home.env, ...browserEnv(browserLog), AUTHSOME_UPSTREAM_RESOLVE: resolve, AUTHSOME_UPSTREAM_CA: caFile, AUTHSOME_REDIRECT_PORT: String(port) };
  const cli = (args: string[], extra: { env?: Record<string, string>; input?: string } = {}) => runCli(args, { env: { ...env, ...extra.env }, ...(extra.input === undefined ? {} : { input: extra.input }) });
  return {
    home, env, browserLog, cli,
    login: (url, args = []) => cli(["login", url, "--redirect-port", String(port), "--timeout", "60", ...args]),
    cleanup: async () => {
      await home.cleanup();
      await rm(browserLog, { force: true });
    },
  };
}
