/**
 * Header rewriting between the agent and the upstream. Works on Node's flat `rawHeaders` arrays
 * (name, value, name, value...) so that order, case and repeated headers survive, and no object
 * is built per request.
 */
import type { InjectionDecision } from "../core/injector.ts";

/**
 * Never copied: hop-by-hop headers (RFC 9110 section 7.6.1, plus the legacy `proxy-connection`)
 * describe one connection, and `host` is set from the real target. `proxy-*` and `x-authsome-*`
 * are dropped by prefix.
 */
const NOT_COPIED = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "host",
]);

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
 * The headers to send upstream: `Host` set to the real target, hop-by-hop and proxy headers
 * removed, injected headers replacing the agent's (any case), and body framing restated so Node
 * re-frames the body it forwards. `websocket` keeps the `Upgrade: websocket` handshake.
 */
export function buildRequestHeaders(
  rawHeaders: readonly string[],
  authority: string,
  decision: InjectionDecision | null,
  websocket: boolean,
): string[] {
  const dropped = _connectionTokens(rawHeaders);
  const out = ["Host", authority];
  let chunked = false;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] ?? "";
    const value = rawHeaders[i + 1] ?? "";
    const lower = name.toLowerCase();
    if (lower === "transfer-encoding") chunked = true;
    if (_isDropped(lower, dropped)) continue;
    if (decision !== null && Object.hasOwn(decision.headers, lower)) continue;
    out.push(name, value);
  }
  // Node's parser only accepts chunked as the final coding and has already decoded it.
  if (chunked) out.push("Transfer-Encoding", "chunked");
  if (websocket) out.push("Connection", "Upgrade", "Upgrade", "websocket");
  if (decision !== null) {
    for (const name of Object.keys(decision.headers)) out.push(name, decision.headers[name] ?? "");
  }
  return out;
}

/**
 * The upstream's response headers for the agent, without hop-by-hop headers. `keepUpgrade` keeps
 * `Connection`/`Upgrade` on a 101 answer to a WebSocket handshake.
 */
export function buildResponseHeaders(rawHeaders: readonly string[], keepUpgrade = false): string[] {
  const dropped = _connectionTokens(rawHeaders);
  const out: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] ?? "";
    const lower = name.toLowerCase();
    if (keepUpgrade && (lower === "connection" || lower === "upgrade")) {
      out.push(name, rawHeaders[i + 1] ?? "");
      continue;
    }
    if (_isDropped(lower, dropped)) continue;
    out.push(name, rawHeaders[i + 1] ?? "");
  }
  return out;
}

/**
 * True when a request carries a body: `Transfer-Encoding`, or a `Content-Length` other than 0.
 * Read from `rawHeaders` so that Node never builds the `req.headers` object on the hot path.
 */
export function hasRequestBody(rawHeaders: readonly string[]): boolean {
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] ?? "";
    if (name.length === 17 && name.toLowerCase() === "transfer-encoding") return true;
    if (name.length === 14 && name.toLowerCase() === "content-length" && rawHeaders[i + 1] !== "0") return true;
  }
  return false;
}

/** True when the request asks for a WebSocket upgrade (the only upgrade the proxy passes on). */
export function isWebSocketUpgrade(rawHeaders: readonly string[]): boolean {
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i]?.toLowerCase() === "upgrade") {
      return (rawHeaders[i + 1] ?? "").split(",").some((token) => token.trim().toLowerCase() === "websocket");
    }
  }
  return false;
}

/** Serialises a response head for writing to a raw socket (WebSocket and CONNECT answers). */
export function rawResponseHead(status: number, reason: string, headers: readonly string[]): string {
  let head = `HTTP/1.1 ${status} ${reason}\r\n`;
  for (let i = 0; i < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`;
  return head + "\r\n";
}

function _isDropped(lower: string, dropped: Set<string> | null): boolean {
  return (
    NOT_COPIED.has(lower) ||
    lower.startsWith("proxy-") ||
    lower.startsWith("x-authsome-") ||
    (dropped !== null && dropped.has(lower))
  );
}

/** Header names listed in `Connection` (RFC 9110 section 7.6.1), except body framing. */
function _connectionTokens(rawHeaders: readonly string[]): Set<string> | null {
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
