/**
 * AWS Signature Version 4 for `authType: "aws_sigv4"` providers, with aws4fetch (Web Crypto,
 * the same on Node and Deno). The agent's SDK signs with placeholder credentials; the egress
 * pipeline drops its `Authorization`, `X-Amz-Date` and `X-Amz-Security-Token` and this signer
 * signs again with the stored ones.
 *
 * The payload hash (https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html):
 * a body with a known length up to sign.ts's limit is read and hashed. A body the agent's SDK
 * already hashed (`X-Amz-Content-Sha256: <hex>`) or declared unsigned (`UNSIGNED-PAYLOAD`,
 * `STREAMING-UNSIGNED-PAYLOAD-TRAILER`: aws-chunked with unsigned chunks) streams as it is
 * under that value: the service checks it against the bytes, so a wrong claim only fails the
 * request. A longer or unbounded S3 upload streams as `UNSIGNED-PAYLOAD`; other services need
 * the hash, so theirs is refused. `STREAMING-AWS4-HMAC-SHA256-PAYLOAD` (aws-chunked with a
 * signature per chunk, chained from the placeholder-signed head) cannot be re-signed without
 * rewriting every chunk: it is refused with the SDK setting that avoids it (docs/plugins.md).
 */
import { AwsV4Signer } from "aws4fetch";
import { AuthsomeError } from "./errors.ts";
import type { RequestSigner, SignInput, SignPlanInput, SignedParts } from "./injector.ts";
import type { SigV4Config } from "./plugin.ts";
import type { CredentialValues } from "./rules.ts";
import { MAX_SIGNED_BODY } from "./sign.ts";

/** The agent's signing headers: never sent, the signer sets its own. */
const DROPS: ReadonlySet<string> = new Set(["authorization", "x-amz-date", "x-amz-security-token"]);
/** Payload hashes that stand for a body streamed as it is. */
const UNSIGNED = new Set(["UNSIGNED-PAYLOAD", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"]);
const SIGNED_CHUNKS = /^STREAMING-AWS4-(?:HMAC-SHA256|ECDSA-P256-SHA256)-PAYLOAD/;
const HEX_HASH = /^[0-9a-f]{64}$/;
const EMPTY_HASH = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
/**
 * Headers covered by the signature besides `host` and `x-amz-*`: the ones the SDKs sign that no
 * transport rewrites afterwards (the proxy asks for `Accept-Encoding: identity` when it scrubs,
 * so that one, like `User-Agent`, stays out).
 */
const SIGNED_HEADERS = new Set(["content-type", "content-md5", "content-encoding", "content-language", "content-disposition", "cache-control", "expires", "if-match", "if-none-match", "if-modified-since", "if-unmodified-since"]);
/** Services whose host name is not their signing name. */
const SIGNING_NAMES: Record<string, string> = { "bedrock-runtime": "bedrock", "bedrock-agent-runtime": "bedrock", "bedrock-agent": "bedrock" };

/** Builds the signer for one connection's secrets; throws credential_missing without keys. */
export function createSigV4Signer(config: SigV4Config | undefined, secrets: CredentialValues): { signer: RequestSigner; secrets: string[] } {
  const accessKeyId = secrets.access_key_id;
  const secretAccessKey = secrets.secret_access_key;
  if (accessKeyId === undefined || accessKeyId === "" || secretAccessKey === undefined || secretAccessKey === "") {
    throw new AuthsomeError("credential_missing", "the connection has no AWS access key id and secret access key", { hint: "log in again" });
  }
  const sessionToken = secrets.session_token === "" ? undefined : secrets.session_token;
  // aws4fetch caches the derived signing key per secret, day, region and service.
  const cache = new Map<string, ArrayBuffer>();
  const signer: RequestSigner = {
    drops: DROPS,
    plan: (request) => _plan(request, serviceOf(config, request.headers)),
    async sign(request) {
      return _sign(request, { accessKeyId, secretAccessKey, sessionToken, cache, config });
    },
  };
  return { signer, secrets: [secretAccessKey, ...(sessionToken === undefined ? [] : [sessionToken]), accessKeyId] };
}

function _plan(request: SignPlanInput, service: string | undefined): ReturnType<RequestSigner["plan"]> {
  const claim = _header(request.headers, "x-amz-content-sha256");
  if (claim !== undefined && SIGNED_CHUNKS.test(claim)) {
    return { status: 400, reason: "a chunk-signed upload (x-amz-content-sha256: STREAMING-AWS4-HMAC-SHA256-PAYLOAD) cannot be re-signed with the stored credentials; use HTTPS with the SDK's default payload signing (the AWS SDK for JavaScript and the AWS CLI send UNSIGNED-PAYLOAD or STREAMING-UNSIGNED-PAYLOAD-TRAILER there)" };
  }
  const body = request.body;
  if (!body.present || (claim !== undefined && (UNSIGNED.has(claim) || HEX_HASH.test(claim)))) return "stream";
  if (body.length !== null ? body.length <= MAX_SIGNED_BODY : body.readsUnknownLength) return "read";
  if (service === "s3") return "stream";
  const why = body.length === null ? "has no Content-Length" : `is larger than ${MAX_SIGNED_BODY / 1024 / 1024} MiB`;
  return { status: body.length === null ? 411 : 413, reason: `this request's body ${why} and carries no x-amz-content-sha256, so it cannot be signed` };
}

interface Keys {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string | undefined;
  cache: Map<string, ArrayBuffer>;
  config: SigV4Config | undefined;
}

async function _sign(request: SignInput, keys: Keys): Promise<SignedParts> {
  const service = serviceOf(keys.config, request.headers, request.url);
  const signed = new Headers();
  for (let i = 0; i < request.headers.length; i += 2) {
    const name = (request.headers[i] ?? "").toLowerCase();
    if (name === "x-amz-content-sha256" || !(name.startsWith("x-amz-") || SIGNED_HEADERS.has(name))) continue;
    signed.append(name, request.headers[i + 1] ?? "");
  }
  const hash = await _payloadHash(request, service);
  if (hash !== undefined) signed.set("x-amz-content-sha256", hash);
  const { headers } = await new AwsV4Signer({
    method: request.method,
    url: request.url.href,
    headers: signed,
    ...(hash === undefined && request.body !== null ? { body: new Uint8Array(request.body) } : {}),
    accessKeyId: keys.accessKeyId,
    secretAccessKey: keys.secretAccessKey,
    ...(keys.sessionToken === undefined ? {} : { sessionToken: keys.sessionToken }),
    ...(service === undefined ? {} : { service }),
    ...(keys.config?.region === undefined ? {} : { region: keys.config.region }),
    cache: keys.cache,
  }).sign();
  const out: Record<string, string> = {};
  for (const name of ["authorization", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256"]) {
    const value = headers.get(name);
    if (value !== null) out[name] = value;
  }
  return { headers: out, query: {} };
}

/**
 * The `x-amz-content-sha256` to sign with, or undefined to let aws4fetch hash an empty body
 * (services other than S3 take no such header; S3 requires it).
 */
async function _payloadHash(request: SignInput, service: string | undefined): Promise<string | undefined> {
  const claim = _header(request.headers, "x-amz-content-sha256");
  const claimed = claim !== undefined && (UNSIGNED.has(claim) || HEX_HASH.test(claim)) ? claim : undefined;
  // Outside S3 the header is the agent's choice: kept when it streams under it, else aws4fetch
  // hashes the body it is given.
  if (service !== "s3") return request.body === null ? claimed : undefined;
  if (request.body !== null) return _hex(await crypto.subtle.digest("SHA-256", new Uint8Array(request.body)));
  return claimed ?? (_hasBody(request.headers) ? "UNSIGNED-PAYLOAD" : EMPTY_HASH);
}

/**
 * The signing name: the plugin's, else from the host as aws4fetch reads it, with the services
 * whose host name differs mapped (Bedrock's runtime hosts sign as `bedrock`).
 */
export function serviceOf(config: SigV4Config | undefined, headers: readonly string[], url?: URL): string | undefined {
  if (config?.service !== undefined) return config.service;
  const host = url?.hostname ?? _header(headers, "host")?.replace(/:\d+$/, "") ?? "";
  const first = /^([^.]+)\.(?:[^.]+\.)?amazonaws\.com(?:\.cn)?$/.exec(host)?.[1];
  if (first !== undefined && SIGNING_NAMES[first] !== undefined) return SIGNING_NAMES[first];
  if (/(?:^|\.)s3[.-]/.test(host) || host.endsWith(".r2.cloudflarestorage.com")) return "s3";
  return undefined;
}

function _hasBody(headers: readonly string[]): boolean {
  const length = _header(headers, "content-length");
  return _header(headers, "transfer-encoding") !== undefined || (length !== undefined && length !== "0");
}

function _header(headers: readonly string[], lower: string): string | undefined {
  for (let i = 0; i < headers.length; i += 2) if ((headers[i] ?? "").toLowerCase() === lower) return (headers[i + 1] ?? "").trim();
  return undefined;
}

function _hex(buffer: ArrayBuffer): string {
  let out = "";
  for (const byte of new Uint8Array(buffer)) out += byte.toString(16).padStart(2, "0");
  return out;
}
