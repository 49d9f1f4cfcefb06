/**
 * HTTP/2 header work for h2-stream.ts: the agent's pseudo-header fields read apart, flat field
 * lists to node:http2 header objects and back, and the compression checks of scrubbed answers.
 */
import type http2 from "node:http2";
import { ProxyReply } from "./request.ts";

/** Never sent on HTTP/2 (RFC 9113 section 8.2.2; node:http2 refuses them too); `host` becomes `:authority`. */
export const CONNECTION_SPECIFIC = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "host"]);

/** The agent's request: pseudo-header fields apart, the other fields flat as received. */
export interface H2Request {
  method: string;
  path: string;
  authority: string | undefined;
  headers: string[];
  /** The agent sent `te: trailers` (gRPC does): the one TE value HTTP/2 allows, passed on. */
  trailers: boolean;
}

/**
 * Pseudo-header fields apart from the rest (RFC 9113 section 8.3.1). A `CONNECT` (plain or
 * extended) inside a tunnel is refused, as on HTTP/1.1.
 */
export function readRequest(raw: readonly string[]): H2Request {
  let method = "";
  let path = "";
  let authority: string | undefined;
  let host: string | undefined;
  let trailers = false;
  const headers: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] ?? "";
    const value = raw[i + 1] ?? "";
    if (name === ":method") method = value;
    else if (name === ":path") path = value;
    else if (name === ":authority") authority = value;
    else if (name.startsWith(":")) continue;
    else {
      if (name === "host") host = value;
      if (name === "te") trailers = value.split(",").some((t) => t.trim().toLowerCase() === "trailers");
      headers.push(name, value);
    }
  }
  if (method === "CONNECT") throw new ProxyReply(405, "CONNECT inside a tunnel is not supported");
  if (method === "" || path === "") throw new ProxyReply(400, "an HTTP/2 request needs :method and :path");
  if (host !== undefined && authority !== undefined && host !== authority) throw new ProxyReply(400, "the Host field and :authority differ");
  return { method, path, authority: authority ?? host, headers, trailers };
}

/** Adds flat fields to an HTTP/2 header object (lower-case names, repeated ones as arrays), skipping `drop`. */
export function addFields(out: http2.OutgoingHttpHeaders, fields: readonly string[], drop: ReadonlySet<string> | null): void {
  for (let i = 0; i < fields.length; i += 2) {
    const name = (fields[i] ?? "").toLowerCase();
    if (drop?.has(name) === true) continue;
    const value = fields[i + 1] ?? "";
    const prior = out[name];
    out[name] = prior === undefined ? value : Array.isArray(prior) ? [...prior, value] : [String(prior), value];
  }
}

export function toHeaders(status: number, fields: readonly string[]): http2.OutgoingHttpHeaders {
  const out: http2.OutgoingHttpHeaders = { ":status": status };
  addFields(out, fields, CONNECTION_SPECIFIC);
  return out;
}

/** A header object back to flat fields (node:http2 joins nothing but `cookie`; arrays are repeats). */
export function flatten(headers: http2.IncomingHttpHeaders): string[] {
  const out: string[] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) out.push(name, v);
    else out.push(name, String(value));
  }
  return out;
}

/** gRPC's own message compression (`grpc-accept-encoding`) asked off too: compressed messages could not be scrubbed. */
export function askIdentity(headers: string[]): string[] {
  for (let i = 0; i < headers.length; i += 2) if ((headers[i] ?? "").toLowerCase() === "grpc-accept-encoding") headers[i + 1] = "identity";
  return headers;
}

export function grpcEncoded(fields: readonly string[]): boolean {
  for (let i = 0; i < fields.length; i += 2) {
    if ((fields[i] ?? "").toLowerCase() === "grpc-encoding" && (fields[i + 1] ?? "").trim().toLowerCase() !== "identity") return true;
  }
  return false;
}

/** A gRPC answer (`application/grpc`, `application/grpc+proto`...): it ends in trailers. */
export function isGrpc(fields: readonly string[]): boolean {
  for (let i = 0; i < fields.length; i += 2) if ((fields[i] ?? "").toLowerCase() === "content-type") return (fields[i + 1] ?? "").toLowerCase().startsWith("application/grpc");
  return false;
}

/** An answer's `content-length` (flat, lower-case names), or NaN when it has none (or not a whole number). */
export function announcedLength(fields: readonly string[]): number {
  for (let i = 0; i < fields.length; i += 2) {
    if (fields[i] !== "content-length") continue;
    const length = Number(fields[i + 1]);
    return Number.isInteger(length) ? length : Number.NaN;
  }
  return Number.NaN;
}
