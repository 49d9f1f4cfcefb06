/**
 * `authsome/intercept`: patches `globalThis.fetch` (Node and Deno) so requests from trusted
 * in-process agent code get credentials injected by the same core injector and rules as the
 * proxy. Redirects are followed here, hop by hop, each hop decided afresh: a credential never
 * rides a redirect to another host. `X-Authsome-*` headers never leave the process.
 */
import "../register.ts";
import { Buffer } from "node:buffer";
import { createAuthService, type AuthService } from "../core/auth-service.ts";
import type { ServiceOptions } from "../core/context.ts";
import { AuthsomeError } from "../core/errors.ts";
import { type AuditBatcher, createAuditBatcher } from "../core/audit.ts";
import { decideEgress, type EgressResult, injectionAuditEntry, injectionEvent, tripwireDenial } from "../core/egress.ts";
import { BODY_TOO_LARGE, readBounded } from "../core/sign.ts";
import { type BodyScan, createTripwire, type Tripwire } from "../core/tripwire.ts";
import { createInjector } from "../core/inject.ts";
import { QuietTimer } from "../core/quiet.ts";
import type { InjectionDecision, Injector } from "../core/injector.ts";
import type { ServiceCore } from "../core/service.ts";
import { startResolveRelay } from "../proxy/socks.ts";
import { readUpstreamOverrides, upstreamFetch, type UpstreamFetch, type UpstreamOverrides } from "../runtime/upstream.ts";
import { agentResponse, enqueueIfOpen } from "./scrub.ts";

/** Options for {@link intercept}. */
export interface InterceptOptions extends ServiceOptions {
  /** Use this service instead of creating one from the options and environment. */
  service?: AuthService;
  /** Provider -> connection choices for every request. */
  connections?: Record<string, string>;
  /**
   * Upstream overrides (an extra trusted CA, `host:port` resolve entries) instead of reading
   * `AUTHSOME_UPSTREAM_CA`/`_RESOLVE` from the environment, which is shared by everything in
   * the process (Deno runs test files in parallel threads of one process).
   */
  upstream?: UpstreamOverrides;
}

type Fetch = typeof globalThis.fetch;
const MAX_REDIRECTS = 20;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

function agentHeaders(request: Request): Headers {
  const headers = new Headers(request.headers);
  for (const name of [...headers.keys()]) if (name.startsWith("x-authsome-")) headers.delete(name);
  return headers;
}

/** A Web Headers object as the flat name/value list the egress pipeline reads. */
function flatHeaders(headers: Headers): string[] {
  const flat: string[] = [];
  for (const [name, value] of headers) flat.push(name, value);
  return flat;
}

/** The flat list back as Headers. */
function toHeaders(flat: readonly string[]): Headers {
  const headers = new Headers();
  for (let i = 0; i + 1 < flat.length; i += 2) headers.append(flat[i] ?? "", flat[i + 1] ?? "");
  return headers;
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

/**
 * A request body through its tripwire scan: cleared bytes go on; a needle errors the upload.
 * What the scan holds back goes on once the agent's body is quiet (core/quiet.ts).
 */
function scannedBody(body: ReadableStream<Uint8Array>, scan: BodyScan): ReadableStream<Uint8Array> {
  let sink: TransformStreamDefaultController<Uint8Array> | null = null;
  const quiet = new QuietTimer(() => {
    const held = scan.flush();
    if (held.length > 0) enqueueIfOpen(sink, held);
  });
  return body.pipeThrough(new TransformStream<Uint8Array, Uint8Array>({
    start(controller) {
      sink = controller;
    },
    transform(chunk, controller) {
      quiet.cancel();
      const out = scan.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      if (out === null) return controller.error(new TypeError("authsome: blocked by a tripwire"));
      if (out.length > 0) controller.enqueue(out);
      if (scan.holding) quiet.arm();
    },
    flush(controller) {
      quiet.stop();
      const rest = scan.end();
      if (rest === null) return controller.error(new TypeError("authsome: blocked by a tripwire"));
      if (rest.length > 0) controller.enqueue(rest);
    },
  }));
}

/** Methods a 401 may retry once after a refresh (RFC 9110 9.2.2: idempotent, and no body to replay). */
const RETRYABLE = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * A 401/403 on an injected request: a step-up (`insufficient_scope`) is recorded, a dead token
 * expired (src/mcp/step-up.ts, loaded only when a server refuses). True: worth one retry.
 */
async function refusedRetry(core: ServiceCore, request: Request, response: Response, injection: InjectionDecision, host: string): Promise<boolean> {
  if (response.status !== 401 && response.status !== 403) return false;
  const { noteRefusal } = await import("../mcp/step-up.ts");
  const refusal = await noteRefusal(core, injection, response.status, response.headers.get("www-authenticate"), host, request.method).catch(() => null);
  return refusal === "expired" && RETRYABLE.has(request.method) && request.body === null;
}

function createPatchedFetch(original: Fetch, injector: Injector, connections: Record<string, string> | undefined, upstream: UpstreamFetch, audit: AuditBatcher, tripwire: Tripwire, core: ServiceCore): Fetch {
  async function send(request: Request, hops: number, retried = false): Promise<Response> {
    // The core pipeline decides and rewrites; this only builds the Request and follows redirects.
    const result = await decideEgress(injector, {
      method: request.method, url: new URL(request.url), rawHeaders: flatHeaders(request.headers), form: "fetch", ...(connections === undefined ? {} : { connections }),
      tripwire, hasBody: request.body !== null,
    });
    if (result.decision.action === "deny") return new Response(`authsome: ${result.decision.reason}\n`, { status: result.decision.status });
    if (result.signBody !== null && request.body !== null) return sendSigned(request, result, result.signBody, hops);
    const headers = toHeaders(result.headers);
    const url = result.url;
    const scan = result.bodyScan;
    const follow = result.injection !== null && request.redirect === "follow";
    // Cloned before the body is taken for the scan (a redirect may replay it).
    const replay = follow ? request.clone() : request;
    const body = scan === null || request.body === null ? request.body : scannedBody(request.body, scan);
    // A body that tripped rejects the upload: the agent gets the same 403 as a header would.
    const sent = (promise: Promise<Response>): Promise<Response> => promise.catch((error: unknown) => {
      if (scan === null || scan.hit === null) throw error;
      const denial = tripwireDenial(tripwire, scan, url.hostname, request.method);
      return new Response(`authsome: ${denial.action === "deny" ? denial.reason : "blocked"}\n`, { status: 403 });
    });
    if (result.injection === null) {
      return sent(original(scan === null ? new Request(request, { headers }) : new Request(request, { headers, body, duplex: "half" } as RequestInit), upstream.init(url)));
    }
    const init: RequestInit & { duplex?: string } = { method: request.method, headers, redirect: follow ? "manual" : request.redirect, signal: request.signal };
    if (body !== null) Object.assign(init, { body, duplex: "half" });
    return deliver(request, result, init, sent, replay, hops, retried);
  }

  /** A signed request whose signature covers its body (core/sign.ts): read whole, then signed. */
  async function sendSigned(request: Request, result: EgressResult, signBody: NonNullable<EgressResult["signBody"]>, hops: number): Promise<Response> {
    const scan = result.bodyScan;
    const stream = request.clone().body;
    let bytes: Uint8Array | null;
    try {
      bytes = stream === null ? new Uint8Array(0) : await readBounded(scan === null ? stream : scannedBody(stream, scan));
    } catch (error) {
      if (scan === null || scan.hit === null) throw error;
      const denial = tripwireDenial(tripwire, scan, result.url.hostname, request.method);
      return new Response(`authsome: ${denial.action === "deny" ? denial.reason : "blocked"}\n`, { status: 403 });
    }
    if (bytes === null) return new Response(`authsome: ${BODY_TOO_LARGE.reason}\n`, { status: BODY_TOO_LARGE.status });
    const signed = await signBody(bytes);
    const follow = request.redirect === "follow";
    const init: RequestInit = { method: request.method, headers: toHeaders(signed.headers), body: new Uint8Array(bytes), redirect: follow ? "manual" : request.redirect, signal: request.signal };
    return deliver(request, { ...result, headers: signed.headers }, init, (promise) => promise, request, hops, true);
  }

  /** Sends an injected request, audits it, scrubs the answer and follows a redirect afresh. */
  async function deliver(request: Request, result: EgressResult, init: RequestInit, sent: (promise: Promise<Response>) => Promise<Response>, replay: Request, hops: number, retried: boolean): Promise<Response> {
    const url = result.url;
    if (result.injection === null) throw new TypeError("authsome: nothing to deliver");
    const follow = request.redirect === "follow";
    const response = await sent(original(new Request(url, init), upstream.init(url)));
    const event = injectionEvent(result.injection, url.hostname, request.method, response.status);
    if (event !== null) audit.add(injectionAuditEntry(event));
    // One refresh and one retry of an idempotent request the server refused the token for, never more.
    if (!retried && (await refusedRetry(core, request, response, result.injection, url.hostname))) {
      await response.body?.cancel();
      return send(request, hops, true);
    }
    // Scrubbed before anything reads it: the agent, and the redirect below (a Location keeping
    // the injected key must not carry it to the next host). The URL is the agent's own.
    const visible = agentResponse(response, result.injection, request.url, hops > 0);
    const next = follow ? nextHop(request, visible, url, replay) : null;
    if (next === null) return visible;
    await visible.body?.cancel();
    if (hops >= MAX_REDIRECTS) throw new TypeError("fetch failed: too many redirects");
    return send(next, hops + 1);
  }
  return (input, init) => send(new Request(input, init), 0);
}

/**
 * Patches `globalThis.fetch` to inject credentials; returns a function that restores the
 * original fetch at once, and whose promise settles when the audit entries still queued are
 * written (await it before removing the home). Calling it twice without restoring is refused.
 */
export async function intercept(options: InterceptOptions = {}): Promise<() => Promise<void>> {
  const state = globalThis as { __authsomeIntercepted?: boolean };
  if (state.__authsomeIntercepted) throw new AuthsomeError("usage", "fetch is already intercepted by authsome");
  const service = options.service ?? (await createAuthService(options));
  const injector = createInjector(service.core, options.connections === undefined ? {} : { connections: options.connections });
  const original = globalThis.fetch;
  const audit = createAuditBatcher((events) => service.core.recordMany(events));
  const upstream = await upstreamFetch(options.upstream ?? (await readUpstreamOverrides()), startResolveRelay);
  // No placeholders in-process (no child environment): a stored secret sent to a host its
  // provider does not declare still trips.
  const tripwire = createTripwire(service.core, { onEvent: (event) => audit.add(event) });
  const patched = createPatchedFetch(original, injector, options.connections, upstream, audit, tripwire, service.core);
  globalThis.fetch = patched;
  state.__authsomeIntercepted = true;
  // Entries still queued when the program ends are written before it exits.
  const flushAtExit = () => void audit.flush();
  process.once("beforeExit", flushAtExit);
  return () => {
    if (globalThis.fetch === patched) globalThis.fetch = original;
    state.__authsomeIntercepted = false;
    injector.close?.();
    tripwire.close();
    upstream.close();
    process.off("beforeExit", flushAtExit);
    return audit.flush();
  };
}
