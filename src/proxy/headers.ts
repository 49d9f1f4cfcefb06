/**
 * Header rewriting between the agent and the upstream. Works on Node's flat `rawHeaders` arrays
 * (name, value, name, value...) so that order, case and repeated headers survive, and no object
 * is built per request.
 */
import { connectionTokens, isDropped } from "../core/egress.ts";

// The request side lives in the core egress pipeline; re-exported for the proxy's callers.
export { buildRequestHeaders, connectionHeader } from "../core/egress.ts";

/**
 * The upstream's response headers for the agent, without hop-by-hop headers. `keepUpgrade` keeps
 * `Connection`/`Upgrade` on a 101 answer to a WebSocket handshake.
 */
export function buildResponseHeaders(rawHeaders: readonly string[], keepUpgrade = false): string[] {
  const dropped = connectionTokens(rawHeaders);
  const out: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] ?? "";
    const lower = name.toLowerCase();
    if (keepUpgrade && (lower === "connection" || lower === "upgrade")) {
      out.push(name, rawHeaders[i + 1] ?? "");
      continue;
    }
    if (isDropped(lower, dropped)) continue;
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
