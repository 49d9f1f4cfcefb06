/**
 * Request signing in the egress pipeline: a provider whose requests are signed (AWS SigV4,
 * sigv4.ts; a TypeScript plugin's `sign` hook, plugin-sign.ts) gets a {@link RequestSigner}
 * on its injection decision instead of fixed headers. The pipeline drops the agent's signing
 * headers, asks the signer how the body takes part, and either signs at once (no body, or a
 * body the signature does not cover) or hands the transport {@link EgressResult.signBody}: the
 * transport reads the body whole (at most {@link MAX_SIGNED_BODY} bytes) and gets the final head.
 */
import type { RequestSigner } from "./injector.ts";

/** Largest body read whole to be signed; beyond it a request is streamed unsigned or refused. */
export const MAX_SIGNED_BODY = 16 * 1024 * 1024;

/** What the transport knows of a request's body before reading it. */
export interface BodyShape {
  /** True when the request has a body at all. */
  present: boolean;
  /** Its Content-Length, or null (chunked, or a fetch body of unknown length). */
  length: number | null;
  /** The transport can read a body of unknown length itself (fetch), bounded by the limit. */
  readsUnknownLength: boolean;
}

/** The result of {@link planSigning}: the signed head now, a body to read first, or a refusal. */
export type SignStep =
  | { kind: "signed"; headers: string[]; query: Record<string, string> }
  | { kind: "read"; finish(body: Uint8Array): Promise<{ headers: string[]; query: Record<string, string> }> }
  | { kind: "refused"; status: number; reason: string };

/**
 * Signs one request. `headers` are the flat headers the pipeline would send (in wire form with
 * `Host`); the signer's {@link RequestSigner.drops} are removed from them first.
 */
export async function planSigning(signer: RequestSigner, method: string, url: URL, headers: readonly string[], body: BodyShape): Promise<SignStep> {
  const kept = _without(headers, signer.drops);
  const plan = signer.plan({ method, headers: kept, body });
  if (typeof plan === "object") return { kind: "refused", ...plan };
  if (plan === "stream") return { kind: "signed", ...(await _signOnce(signer, method, url, kept, null)) };
  return { kind: "read", finish: (bytes) => _signOnce(signer, method, url, kept, bytes) };
}

/** One signature: the signer's headers replace any the agent sent of the same name. */
async function _signOnce(signer: RequestSigner, method: string, url: URL, kept: string[], body: Uint8Array | null): Promise<{ headers: string[]; query: Record<string, string> }> {
  const out = await signer.sign({ method, url, headers: kept, body });
  const set = new Set(Object.keys(out.headers).map((name) => name.toLowerCase()));
  return { headers: [..._without(kept, set), ..._flat(out.headers)], query: out.query };
}

/** A refusal for a body over the read limit (the transport counts while it reads). */
export const BODY_TOO_LARGE = { status: 413, reason: `the request body is too large to be signed (more than ${MAX_SIGNED_BODY / 1024 / 1024} MiB)` } as const;

function _without(headers: readonly string[], drops: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i] ?? "";
    if (!drops.has(name.toLowerCase())) out.push(name, headers[i + 1] ?? "");
  }
  return out;
}

function _flat(record: Readonly<Record<string, string>>): string[] {
  const out: string[] = [];
  for (const name of Object.keys(record)) out.push(name, record[name] ?? "");
  return out;
}

/** Reads a Web body stream whole, or null when it exceeds {@link MAX_SIGNED_BODY}. */
export async function readBounded(stream: ReadableStream<Uint8Array>): Promise<Uint8Array | null> {
  const parts: Uint8Array[] = [];
  let size = 0;
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_SIGNED_BODY) {
      await reader.cancel();
      return null;
    }
    parts.push(value);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}
