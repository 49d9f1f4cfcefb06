/**
 * The egress pipeline: the one place that turns an agent's outbound request into what leaves
 * the machine. Every transport (the proxy's node:http forwarder, its raw relay, the in-process
 * fetch interceptor) hands it the request as it knows it and sends what comes back; none of
 * them decides anything about credentials, authsome's own headers or the audit event.
 *
 * Request side only. Responses go back through each transport's response path, where
 * scrubbing (scrub.ts) hooks in with the {@link EgressResult.injection} it needs.
 */
import type { AuditEvent } from "./audit.ts";
import type { InjectionDecision, InjectionOptions, Injector } from "./injector.ts";
import type { BodyScan, Tripwire, TripwireHit } from "./tripwire.ts";
import { normalizeHost, parseUrlAuthority } from "./host.ts";
import { replacePlaceholders } from "./placeholder-url.ts";
import { planSigning } from "./sign.ts";

/** One outbound request as a transport knows it. */
export interface EgressRequest {
  method: string;
  /**
   * The request's real URL, built by the transport from the target it connects to plus the
   * path the agent sent (by concatenation: a path like `//evil.example/` must never become
   * the host the decision is made for). Fresh per request: an injected query is set on it in
   * place (no second parse on the hot path).
   */
  url: URL;
  /** The origin-form path the agent sent (wire form), sent as is when nothing is injected. */
  rawPath?: string;
  /** Header names and values as received, flat (`name, value, name, value...`). */
  rawHeaders: readonly string[];
  /**
   * `wire`: the proxy writes the head itself (the real target's `Host`, body framing restated).
   * `fetch`: headers for a Web `Request` (no `Host`, no framing: fetch sets both).
   */
  form: "wire" | "fetch";
  /** The `Host` value to send in `wire` form (the target's authority). */
  authority?: string;
  /**
   * The authority the agent named for this request (an absolute-form target's, HTTP/2's
   * `:authority`, else `Host`), when the transport connects to a target of its own choosing
   * (a CONNECT tunnel): it must name {@link url}'s host, else the request is refused 421.
   */
  named?: string | undefined;
  /** Connection named by the transport (the proxy credential's username), if any. */
  connection?: string;
  /** Provider -> connection choices for the whole run or interceptor. */
  connections?: Record<string, string>;
  /** Keep the WebSocket handshake (`Connection: Upgrade`, `Upgrade: websocket`). */
  websocket?: boolean;
  /** The run's tripwires (tripwire.ts): placeholders and secrets bound for a host not theirs. */
  tripwire?: Tripwire;
  /** The request has a body: scanned with a tripwire ({@link EgressResult.bodyScan}), and signed with it where a signer needs it. */
  hasBody?: boolean;
  /**
   * The body's Content-Length, or null when it has none (chunked; a fetch body). With
   * `form: "fetch"` a body of unknown length may be read whole for signing (sign.ts).
   */
  bodyLength?: number | null;
}

/** What the pipeline decided for a request. */
export type EgressDecision =
  | { action: "inject"; injection: InjectionDecision }
  | { action: "pass" }
  | { action: "deny"; status: number; reason: string };

/** The rewritten request, ready for a transport to send. */
export interface EgressResult {
  decision: EgressDecision;
  /** The credential put on the request (for the audit event and response scrubbing), or null. */
  injection: InjectionDecision | null;
  /** The URL to send: the agent's, or normalised with the injected query when injecting. */
  url: URL;
  /**
   * The origin-form path to send. Injecting: exactly the (normalised) path the decision was
   * made on, so a path prefix rule cannot be sidestepped by dot segments the upstream resolves
   * differently. Otherwise the agent's path as it sent it.
   */
  path: string;
  /** The headers to send (flat), in the request's {@link EgressRequest.form}. */
  headers: string[];
  /**
   * With a tripwire and a body: the scanner its bytes go through before they are sent (null
   * answer = tripped: stop, answer {@link tripwireDenial}); null when there is nothing to scan.
   */
  bodyScan: BodyScan | null;
  /**
   * For a signed request whose signature covers the body (sign.ts): the transport reads the
   * body whole (at most `MAX_SIGNED_BODY` bytes, else answers `BODY_TOO_LARGE`), then sends
   * the head this returns instead of {@link headers} and {@link path}. Null: send as is.
   */
  signBody: ((body: Uint8Array) => Promise<{ headers: string[]; path: string }>) | null;
}

/** What an injected request's audit entry records: never a header value. */
export interface InjectionEvent {
  provider: string;
  connection: string;
  host: string;
  method: string;
  /** The upstream's status, or 502 when it could not be reached. */
  status: number;
}

/**
 * Decides and rewrites one request: which connection (the agent's `X-Authsome-Connection`,
 * else the transport's choice), what the injector puts on it, and the headers that leave:
 * authsome's own (`Proxy-*`, `X-Authsome-*`) and hop-by-hop ones never do.
 */
export async function decideEgress(injector: Injector, request: EgressRequest): Promise<EgressResult> {
  const connection = connectionHeader(request.rawHeaders) ?? request.connection;
  const options: InjectionOptions | undefined =
    connection === undefined && request.connections === undefined
      ? undefined
      : { ...(connection === undefined ? {} : { connection }), ...(request.connections === undefined ? {} : { connections: request.connections }) };
  const url = request.url;
  if (request.named !== undefined && !namesTarget(request.named, url)) return _misdirected(request, url);
  const tripped = request.tripwire === undefined ? null : await _tripwireCheck(request.tripwire, request);
  if (tripped !== null) return tripped;
  const scan = request.tripwire !== undefined && request.hasBody === true ? await request.tripwire.body(url) : null;
  const bodyScan = scan === null || scan.idle ? null : scan;
  const decided = await injector.decide(url, options);
  const injection = decided === null ? null : await replacePlaceholders(decided, url, request.tripwire);
  let path = request.rawPath ?? url.pathname + url.search;
  if (injection !== null) {
    for (const name of Object.keys(injection.query)) url.searchParams.set(name, injection.query[name] ?? "");
    path = url.pathname + url.search;
  }
  const headers = buildRequestHeaders(request.rawHeaders, request.form === "wire" ? (request.authority ?? url.host) : null, injection, request.websocket === true);
  const decision: EgressDecision = injection === null ? PASS : { action: "inject", injection };
  if (injection?.sign !== undefined) return _signed(request, { decision, injection, url, path, headers, bodyScan, signBody: null });
  return { decision, injection, url, path, headers, bodyScan, signBody: null };
}

/** A signed provider's request: signed now, or once the transport has read the body (sign.ts). */
async function _signed(request: EgressRequest, result: EgressResult): Promise<EgressResult> {
  const signer = result.injection?.sign;
  if (signer === undefined) return result;
  const length = request.bodyLength ?? null;
  const shape = { present: request.hasBody === true, length, readsUnknownLength: request.form === "fetch" };
  const step = await planSigning(signer, request.method, result.url, result.headers, shape);
  if (step.kind === "refused") return { ...result, decision: { action: "deny", status: step.status, reason: step.reason }, injection: null, headers: [], bodyScan: null };
  const url = result.url;
  const withQuery = (query: Record<string, string>): string => {
    for (const name of Object.keys(query)) url.searchParams.set(name, query[name] ?? "");
    return Object.keys(query).length === 0 ? result.path : url.pathname + url.search;
  };
  if (step.kind === "signed") return { ...result, headers: step.headers, path: withQuery(step.query) };
  const signBody = async (body: Uint8Array) => {
    const out = await step.finish(body);
    return { headers: out.headers, path: withQuery(out.query) };
  };
  return { ...result, signBody };
}

/**
 * Whether an authority the agent sent (`host`, `host:port`, `[v6]:port`, a `userinfo@` dropped)
 * names `url`'s host and port, the host in the one normal form (host.ts); no port is the
 * scheme's default (RFC 9110 section 7.2), as an empty one is.
 */
export function namesTarget(named: string, url: URL): boolean {
  if (named === url.host) return true;
  const fallback = url.protocol === "https:" ? 443 : 80;
  const parsed = parseUrlAuthority(named.trim(), fallback);
  return parsed !== null && parsed.host === normalizeHost(url.hostname) && parsed.port === (url.port === "" ? fallback : Number(url.port));
}

/**
 * A request naming another host than the one its connection goes to: 421 Misdirected Request
 * (RFC 9110 section 15.5.20) over every transport, never rewritten to the target. Nothing is
 * decided for it; the client opens a connection of its own for the host it meant.
 */
function _misdirected(request: EgressRequest, url: URL): EgressResult {
  const reason = `this connection is for ${url.host}; a request for another host (Host, :authority) needs its own connection`;
  return { decision: { action: "deny", status: 421, reason }, injection: null, url, path: request.rawPath ?? url.pathname + url.search, headers: [], bodyScan: null, signBody: null };
}

/**
 * The tripwire on the agent's URL and headers, looked at before injection (what authsome adds is
 * never taken for the agent's): a 403 result, audited, or null to go on.
 */
async function _tripwireCheck(tripwire: Tripwire, request: EgressRequest): Promise<EgressResult | null> {
  const url = request.url;
  const hit = await tripwire.check(url, request.rawHeaders);
  if (hit === null) return null;
  tripwire.report(hit, url.hostname, request.method);
  const decision: EgressDecision = { action: "deny", status: 403, reason: tripwire.reason(hit, url.hostname) };
  return { decision, injection: null, url, path: request.rawPath ?? url.pathname + url.search, headers: [], bodyScan: null, signBody: null };
}

/** The 403 for a body that tripped (the scan's hit is audited here, once). */
export function tripwireDenial(tripwire: Tripwire, scan: { readonly hit: TripwireHit | null }, host: string, method: string): EgressDecision {
  const hit = scan.hit ?? { provider: "unknown", kind: "secret", where: "body" };
  tripwire.report(hit, host, method);
  return { action: "deny", status: 403, reason: tripwire.reason(hit, host) };
}

const PASS: EgressDecision = Object.freeze({ action: "pass" });

/** The audit event of an injected request answered with `status` (null when nothing was injected). */
export function injectionEvent(injection: InjectionDecision | null, host: string, method: string, status: number): InjectionEvent | null {
  if (injection === null) return null;
  return { provider: injection.provider, connection: injection.connection, host, method, status };
}

/** The audit-log entry for an injection event (the same for the proxy and the interceptor). */
export function injectionAuditEntry(event: InjectionEvent): AuditEvent {
  return { action: "inject", provider: event.provider, connection: event.connection, host: event.host, method: event.method, status: event.status, outcome: event.status < 500 ? "ok" : "error" };
}

/**
 * The egress allowlist (`run --deny-unmatched`): a deny decision for a host no connected
 * provider declares, or null when the host may be reached.
 */
export async function hostPolicy(injector: Injector, host: string, port: number, denyUnmatched: boolean): Promise<EgressDecision | null> {
  if (!denyUnmatched || (await injector.shouldIntercept(host, port))) return null;
  const reason =
    `${host} is not declared by any connected provider and this run denies unmatched hosts ` +
    `(--deny-unmatched); to allow it, log in to a provider whose injection rules declare ${host}`;
  return { action: "deny", status: 403, reason };
}

/**
 * Never copied: hop-by-hop headers (RFC 9110 section 7.6.1, plus the legacy `proxy-connection`)
 * describe one connection, and `host` is set from the real target. `proxy-*` and `x-authsome-*`
 * are dropped by prefix.
 */
const NOT_COPIED = new Set(["connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade", "host"]);

/** Headers a `Connection` token may not remove: they frame the body we forward. */
const FRAMING = new Set(["content-length", "transfer-encoding"]);

/** The per-request connection choice from `X-Authsome-Connection`, if the agent sent one. */
export function connectionHeader(rawHeaders: readonly string[]): string | undefined {
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i];
    if (name !== undefined && name.length === 21 && name.toLowerCase() === "x-authsome-connection") {
      const value = rawHeaders[i + 1]?.trim();
      if (value !== undefined && value !== "") return value;
    }
  }
  return undefined;
}

/**
 * The headers to send upstream: `Host` set to `authority` (none when null: fetch sets it),
 * hop-by-hop and authsome's headers removed, injected headers replacing the agent's (any case),
 * and, on the wire, body framing restated so the forwarded body is framed as it is sent.
 * `websocket` keeps the `Upgrade: websocket` handshake.
 */
export function buildRequestHeaders(rawHeaders: readonly string[], authority: string | null, decision: InjectionDecision | null, websocket: boolean): string[] {
  const dropped = connectionTokens(rawHeaders);
  const out = authority === null ? [] : ["Host", authority];
  let chunked = false;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] ?? "";
    const lower = name.toLowerCase();
    if (lower === "transfer-encoding") chunked = true;
    if (isDropped(lower, dropped)) continue;
    if (decision !== null && Object.hasOwn(decision.headers, lower)) continue;
    out.push(name, rawHeaders[i + 1] ?? "");
  }
  // Node's parser only accepts chunked as the final coding and has already decoded it.
  if (chunked && authority !== null) out.push("Transfer-Encoding", "chunked");
  if (websocket) out.push("Connection", "Upgrade", "Upgrade", "websocket");
  if (decision !== null) {
    for (const name of Object.keys(decision.headers)) out.push(name, decision.headers[name] ?? "");
  }
  return out;
}

/** True for a header that never leaves: hop-by-hop, authsome's own, or named in `Connection`. */
export function isDropped(lower: string, dropped: Set<string> | null): boolean {
  return NOT_COPIED.has(lower) || lower.startsWith("proxy-") || lower.startsWith("x-authsome-") || (dropped !== null && dropped.has(lower));
}

/** Header names listed in `Connection` (RFC 9110 section 7.6.1), except body framing. */
export function connectionTokens(rawHeaders: readonly string[]): Set<string> | null {
  let tokens: Set<string> | null = null;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i]?.toLowerCase() !== "connection") continue;
    for (const token of (rawHeaders[i + 1] ?? "").split(",")) {
      const name = token.trim().toLowerCase();
      if (name === "" || name === "close" || name === "keep-alive" || FRAMING.has(name)) continue;
      tokens ??= new Set();
      tokens.add(name);
    }
  }
  return tokens;
}
