/**
 * `authsome/intercept`: patches `globalThis.fetch` (Node and Deno) so requests from trusted
 * in-process agent code get credentials injected by the same core injector and rules as the
 * proxy. Redirects are followed here, hop by hop, each hop decided afresh: a credential never
 * rides a redirect to another host. `X-Authsome-*` headers never leave the process.
 */
import { readFile } from "node:fs/promises";
import { createAuthService, type AuthService } from "../core/auth-service.ts";
import type { ServiceOptions } from "../core/context.ts";
import { AuthsomeError } from "../core/errors.ts";
import { type AuditBatcher, createAuditBatcher } from "../core/audit.ts";
import { createInjector } from "../core/inject.ts";
import type { Injector } from "../core/injector.ts";
import { parseResolveSpec } from "../proxy/address.ts";
import { getEnv, upstreamFetchInit } from "../runtime/index.ts";

/** Options for {@link intercept}. */
export interface InterceptOptions extends ServiceOptions {
  /** Use this service instead of creating one from the options and environment. */
  service?: AuthService;
  /** Provider -> connection choices for every request. */
  connections?: Record<string, string>;
}

type Fetch = typeof globalThis.fetch;
const MAX_REDIRECTS = 20;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

function agentHeaders(request: Request): Headers {
  const headers = new Headers(request.headers);
  for (const name of [...headers.keys()]) if (name.startsWith("x-authsome-")) headers.delete(name);
  return headers;
}

async function loadOverrides(): Promise<Record<string, unknown>> {
  const caFile = getEnv("AUTHSOME_UPSTREAM_CA");
  const resolve = getEnv("AUTHSOME_UPSTREAM_RESOLVE");
  return upstreamFetchInit({
    ...(caFile === undefined ? {} : { extraCaPem: await readFile(caFile, "utf8") }),
    ...(resolve === undefined ? {} : { resolve: parseResolveSpec(resolve) }),
  });
}

function nextHop(request: Request, response: Response, url: URL, replay: Request): Request | null {
  const location = response.headers.get("location");
  if (!REDIRECTS.has(response.status) || location === null) return null;
  const target = new URL(location, url);
  const headers = agentHeaders(request);
  // As the fetch standard does: the agent's own Authorization does not cross origins either.
  if (target.origin !== url.origin) headers.delete("authorization");
  const toGet = response.status === 303 || ((response.status === 301 || response.status === 302) && request.method === "POST");
  const init: RequestInit & { duplex?: string } = { method: toGet ? "GET" : request.method, headers, redirect: "follow", signal: request.signal };
  if (!toGet && replay.body !== null) Object.assign(init, { body: replay.body, duplex: "half" });
  return new Request(target, init);
}

function createPatchedFetch(original: Fetch, injector: Injector, connections: Record<string, string> | undefined, extra: Record<string, unknown>, audit: AuditBatcher): Fetch {
  async function send(request: Request, hops: number): Promise<Response> {
    const url = new URL(request.url);
    const chosen = request.headers.get("x-authsome-connection") ?? undefined;
    const decision = await injector.decide(url, { ...(chosen === undefined ? {} : { connection: chosen }), ...(connections === undefined ? {} : { connections }) });
    const headers = agentHeaders(request);
    if (decision === null) return original(new Request(request, { headers }), extra);
    for (const [name, value] of Object.entries(decision.headers)) headers.set(name, value);
    for (const [name, value] of Object.entries(decision.query)) url.searchParams.set(name, value);
    const follow = request.redirect === "follow";
    const replay = follow ? request.clone() : request;
    const init: RequestInit & { duplex?: string } = { method: request.method, headers, redirect: follow ? "manual" : request.redirect, signal: request.signal };
    if (request.body !== null) Object.assign(init, { body: request.body, duplex: "half" });
    const response = await original(new Request(url, init), extra);
    audit.add({ action: "inject", provider: decision.provider, connection: decision.connection, host: url.hostname, method: request.method, status: response.status, outcome: response.status < 500 ? "ok" : "error" });
    const next = follow ? nextHop(request, response, url, replay) : null;
    if (next === null) return response;
    await response.body?.cancel();
    if (hops >= MAX_REDIRECTS) throw new TypeError("fetch failed: too many redirects");
    return send(next, hops + 1);
  }
  return (input, init) => send(new Request(input, init), 0);
}

/**
 * Patches `globalThis.fetch` to inject credentials; returns a function that restores the
 * original fetch. Calling it twice without restoring is refused.
 */
export async function intercept(options: InterceptOptions = {}): Promise<() => void> {
  const state = globalThis as { __authsomeIntercepted?: boolean };
  if (state.__authsomeIntercepted) throw new AuthsomeError("usage", "fetch is already intercepted by authsome");
  const service = options.service ?? (await createAuthService(options));
  const injector = createInjector(service.core, options.connections === undefined ? {} : { connections: options.connections });
  const original = globalThis.fetch;
  const audit = createAuditBatcher((events) => service.core.recordMany(events));
  const patched = createPatchedFetch(original, injector, options.connections, await loadOverrides(), audit);
  globalThis.fetch = patched;
  state.__authsomeIntercepted = true;
  // Entries still queued when the program ends are written before it exits.
  const flushAtExit = () => void audit.flush();
  process.once("beforeExit", flushAtExit);
  return () => {
    if (globalThis.fetch === patched) globalThis.fetch = original;
    state.__authsomeIntercepted = false;
    injector.close?.();
    process.off("beforeExit", flushAtExit);
    void audit.flush();
  };
}
