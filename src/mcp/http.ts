/**
 * The HTTP client the MCP side of authsome uses (discovery, registration, the stdio bridge):
 * `fetch` with the upstream overrides applied (`AUTHSOME_UPSTREAM_RESOLVE`/`_CA`, tests and
 * development) and a deadline per request, so an MCP server that never answers cannot hang a
 * login or a bridge.
 */
import { AuthsomeError } from "../core/errors.ts";
import { startResolveRelay } from "../proxy/socks.ts";
import { readUpstreamOverrides, upstreamFetch, type UpstreamFetch } from "../runtime/upstream.ts";

/** How long discovery and registration requests may take. */
export const MCP_REQUEST_TIMEOUT_MS = 30_000;

let _upstream: Promise<UpstreamFetch> | undefined;

/** `fetch` with the upstream overrides; `timeoutMs` bounds the wait for the response head. */
export async function mcpFetch(url: string | URL, init: RequestInit = {}, timeoutMs = MCP_REQUEST_TIMEOUT_MS): Promise<Response> {
  const upstream = await (_upstream ??= readUpstreamOverrides().then((o) => upstreamFetch(o, startResolveRelay)));
  const target = new URL(url);
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = init.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
  try {
    return await fetch(target, { ...init, signal, ...upstream.init(target) } as RequestInit);
  } catch (error) {
    if (init.signal?.aborted) throw error;
    const why = timeout.aborted ? `no answer within ${Math.round(timeoutMs / 1000)} s` : "cannot connect";
    throw new AuthsomeError("endpoint_unreachable", `${target.host}: ${why}`, { cause: error, hint: "check the URL and the network" });
  }
}

/** Releases the upstream overrides' clients (a bridge calls it when it exits). */
export function closeMcpFetch(): void {
  void _upstream?.then((u) => u.close());
  _upstream = undefined;
}

/** True for a loopback host, where plain http:// is allowed for servers (RFC 8252 7.3 spirit: nothing leaves the machine). */
export function isLoopbackHost(hostname: string): boolean {
  return hostname === "localhost" || hostname === "127.0.0.1" || hostname === "[::1]" || hostname === "::1";
}
