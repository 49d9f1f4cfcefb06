/**
 * The request side the proxy's two transports share (the node:http forwarder, forward.ts, and
 * the raw relay, relay.ts): the request target turned into a path and handed to the core egress
 * pipeline, the audit report, and the proxy's own error answers. Neither transport decides
 * anything about credentials or headers itself.
 */
import { STATUS_CODES } from "node:http";
import type http from "node:http";
import type { Duplex } from "node:stream";
import { decideEgress, type InjectionEvent, injectionEvent } from "../core/egress.ts";
import type { InjectionDecision, Injector } from "../core/injector.ts";
import { toAuthsomeError } from "../core/errors.ts";
import type { BodyScan, Tripwire } from "../core/tripwire.ts";
import { hasRequestBody, rawResponseHead } from "./headers.ts";
import type { Target, Upstream } from "./upstream.ts";

/** What {@link ForwardContext.onInjection} reports (defined by the core egress pipeline). */
export type { InjectionEvent } from "../core/egress.ts";

/** Shared state of one proxy instance. */
export interface ForwardContext {
  injector: Injector;
  upstream: Upstream;
  onInjection?: ((event: InjectionEvent) => void) | undefined;
  /** The run's tripwires (placeholders and secrets bound for a host not theirs), if any. */
  tripwire?: Tripwire | undefined;
  /**
   * An injected request answered 401/403 (with the response's `WWW-Authenticate`): a step-up or
   * a dead token, recorded by src/mcp/step-up.ts so the next request refreshes.
   */
  onRefusal?: ((decision: InjectionDecision, status: number, wwwAuthenticate: string | null, host: string, method: string) => Promise<unknown> | void) | undefined;
}

/** A request ready to send: path and headers after injection. */
export interface Prepared {
  path: string;
  headers: string[];
  decision: InjectionDecision | null;
  /** The body's tripwire scan (core/tripwire.ts), or null: send the body as it comes. */
  bodyScan: BodyScan | null;
  /**
   * A signed request whose signature covers its body (core/sign.ts): read the body whole, then
   * send the head this returns. Null: send {@link path} and {@link headers} as they are.
   */
  signBody: ((body: Uint8Array) => Promise<{ headers: string[]; path: string }>) | null;
}

/** An error answer: status and one line of text for the agent. */
export class ProxyReply extends Error {
  readonly status: number;

  constructor(status: number, message: string) {
    super(message);
    this.name = "ProxyReply";
    this.status = status;
  }
}

/** Sends an error answer on a ServerResponse (or drops the connection if it is too late). */
export function sendReply(res: http.ServerResponse, error: unknown, extraHeaders: string[] = []): void {
  if (res.headersSent) return void res.destroy();
  const { status, message } = replyParts(error);
  const text = `authsome proxy: ${message}\n`;
  res.writeHead(status, [...extraHeaders, ...TEXT, "Content-Length", String(Buffer.byteLength(text))]);
  res.end(text);
}

/** The same answer written to a raw socket (CONNECT, WebSocket), which is then closed. */
export function replyOnSocket(socket: Duplex, error: unknown, extraHeaders: string[] = []): void {
  const { status, message } = replyParts(error);
  const text = `authsome proxy: ${message}\n`;
  const headers = [...extraHeaders, ...TEXT, "Content-Length", String(Buffer.byteLength(text)), "Connection", "close"];
  if (!socket.destroyed) socket.end(rawResponseHead(status, STATUS_CODES[status] ?? "", headers) + text);
}

const TEXT = ["Content-Type", "text/plain; charset=utf-8"];

/** The status and one-line text of the proxy's answer to `error` (HTTP/2 streams write it themselves). */
export function replyParts(error: unknown): { status: number; message: string } {
  if (error instanceof ProxyReply) return { status: error.status, message: error.message };
  // Injector errors are AuthsomeErrors whose messages name providers and connections, never secrets.
  const coded = toAuthsomeError(error);
  const hint = coded.hint === undefined ? "" : ` (${coded.hint})`;
  return { status: 502, message: `${coded.code}: ${coded.message}${hint}` };
}

/**
 * Builds what to send for a request to `target`: the core egress pipeline decides (connection,
 * injection, which headers leave); this only turns the request target into a path first.
 * Shared by both ways requests are forwarded (node:http here, the raw relay in relay.ts).
 */
export async function prepareRequest(
  ctx: ForwardContext,
  requestTarget: string,
  rawHeaders: readonly string[],
  target: Target,
  username: string,
  websocket: boolean,
  method = "GET",
  /** HTTP/2 says so by the stream's end, not by a header: given, it overrides the headers. */
  hasBody?: boolean,
  /** HTTP/2's `:authority`; HTTP/1.1 names its host in the request target or `Host`. */
  authority?: string,
): Promise<Prepared> {
  const rawPath = originFormPath(requestTarget);
  if (rawPath === null) throw new ProxyReply(400, "request target must be a path or an absolute URL");
  const named = authority ?? namedAuthority(requestTarget, rawHeaders);
  const chosen = username === "_" || username === "" ? undefined : username;
  // Built by concatenation, never `new URL(path, base)`: a path like `//evil.example/` must not
  // become the host the decision is made for.
  const url = new URL(target.origin + rawPath);
  const result = await decideEgress(ctx.injector, {
    method, url, rawPath, rawHeaders, form: "wire", authority: target.authority, named, websocket, ...(chosen === undefined ? {} : { connection: chosen }),
    hasBody: hasBody ?? hasRequestBody(rawHeaders), bodyLength: contentLength(rawHeaders), ...(ctx.tripwire === undefined ? {} : { tripwire: ctx.tripwire }),
  });
  if (result.decision.action === "deny") throw new ProxyReply(result.decision.status, result.decision.reason);
  return { path: result.path, headers: result.headers, decision: result.injection, bodyScan: result.bodyScan, signBody: result.signBody };
}

/**
 * The authority a request names (checked against its target by the egress pipeline): an
 * absolute-form target's (which wins over `Host`, RFC 9112 section 3.2.2), else `Host`.
 * Several `Host` fields are a 400 (RFC 9112 section 3.2).
 */
export function namedAuthority(requestTarget: string, rawHeaders: readonly string[]): string | undefined {
  let host: string | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] ?? "";
    if (name.length !== 4 || name.toLowerCase() !== "host") continue;
    if (host !== undefined) throw new ProxyReply(400, "a request may carry one Host field");
    host = rawHeaders[i + 1] ?? "";
  }
  const absolute = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(requestTarget);
  return absolute === null ? host : absolute[1];
}

/** A request's Content-Length, or null when it has none or is chunked (Transfer-Encoding wins). */
export function contentLength(rawHeaders: readonly string[]): number | null {
  let length: number | null = null;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const lower = (rawHeaders[i] ?? "").toLowerCase();
    if (lower === "transfer-encoding") return null;
    if (lower === "content-length" && /^\d{1,15}$/.test((rawHeaders[i + 1] ?? "").trim())) length = Number(rawHeaders[i + 1]);
  }
  return length;
}

/**
 * The origin-form path of a request target: the target itself when it starts with `/`, the part
 * after the authority of an absolute URL, or null for anything else (`*`, garbage).
 */
export function originFormPath(requestTarget: string): string | null {
  if (requestTarget.startsWith("/")) return requestTarget;
  const match = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(requestTarget);
  if (match === null) return null;
  const rest = requestTarget.slice(match[0].length);
  const hash = rest.indexOf("#");
  const path = hash < 0 ? rest : rest.slice(0, hash);
  return path.startsWith("/") ? path : `/${path}`;
}

/** Reports an injected request (the audit log); a failing sink never breaks the request. */
export function reportInjection(ctx: ForwardContext, decision: InjectionDecision | null, target: Target, method: string, status: number): void {
  const event = injectionEvent(decision, target.host, method, status);
  if (event === null || ctx.onInjection === undefined) return;
  try {
    ctx.onInjection(event);
  } catch {
    // An audit sink failure must not break the agent's request; the sink reports its own errors.
  }
}

/**
 * Reports an injected request the upstream refused (401/403); resolves when the sink is done
 * (a retry waits for the refused token to be marked expired). A failing sink never breaks the request.
 */
export async function reportRefusal(ctx: ForwardContext, decision: InjectionDecision | null, status: number, rawHeaders: readonly string[], host: string, method: string): Promise<void> {
  if (decision === null || (status !== 401 && status !== 403) || ctx.onRefusal === undefined) return;
  let challenge: string | null = null;
  for (let i = 0; i < rawHeaders.length; i += 2) if (rawHeaders[i]?.toLowerCase() === "www-authenticate") challenge = challenge === null ? (rawHeaders[i + 1] ?? "") : `${challenge}, ${rawHeaders[i + 1] ?? ""}`;
  try {
    await ctx.onRefusal(decision, status, challenge, host, method);
  } catch {
    // As for the audit sink: recording must not break the agent's request.
  }
}
