/**
 * A local stand-in for AWS endpoints, over HTTPS with certificates from a test CA: every request
 * is checked with @smithy/signature-v4 (the AWS SDK's signer, not the aws4fetch that authsome
 * signs with) against the real test credentials, and refused (403, S3-style XML) otherwise.
 * Behind the check: an S3-ish object store (PUT/GET `/bucket/key`, aws-chunked uploads decoded)
 * and a Bedrock-ish `POST /model/<id>/invoke` that answers with what it was sent.
 */
import { createHash, createHmac } from "node:crypto";
import https from "node:https";
import type http from "node:http";
import type { AddressInfo } from "node:net";
import tls from "node:tls";
import { SignatureV4 } from "@smithy/signature-v4";
import type { CertificateAuthority } from "../../src/proxy/ca.ts";

/** The real credentials the stand-in accepts. */
export interface AwsTestKeys {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** What the stand-in saw of one request. */
export interface AwsSeen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  /** Why the signature check failed, or null when it passed. */
  refused: string | null;
  service: string;
  /** The x-amz-content-sha256 the request was signed with (absent for most non-S3 calls). */
  payload: string | undefined;
  bodyBytes: number;
}

export interface AwsUpstream {
  port: number;
  seen: AwsSeen[];
  objects: Map<string, Buffer>;
  close(): Promise<void>;
}

/** Node's hashes in the shape smithy's signer takes. */
class NodeSha256 {
  private readonly hash: ReturnType<typeof createHash> | ReturnType<typeof createHmac>;
  constructor(secret?: unknown) {
    this.hash = secret === undefined ? createHash("sha256") : createHmac("sha256", typeof secret === "string" ? secret : Buffer.from(secret as Uint8Array));
  }
  update(data: Uint8Array | string): void {
    this.hash.update(typeof data === "string" ? Buffer.from(data) : data);
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.hash.digest()));
  }
}

const sha256Hex = (data: Uint8Array): string => createHash("sha256").update(data).digest("hex");

/** Starts the stand-in; `ca` issues a leaf per SNI name. */
export async function startAwsUpstream(ca: CertificateAuthority, keys: AwsTestKeys): Promise<AwsUpstream> {
  const seen: AwsSeen[] = [];
  const objects = new Map<string, Buffer>();
  const server = https.createServer({
    SNICallback: (name, callback) => {
      ca.leafFor(name).then((leaf) => callback(null, tls.createSecureContext({ cert: leaf.certPem, key: leaf.keyPem })), (error: Error) => callback(error));
    },
  });
  server.on("request", (req: http.IncomingMessage, res: http.ServerResponse) => {
    const parts: Buffer[] = [];
    req.on("data", (chunk: Buffer) => parts.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(parts);
      void verify(req, body, keys).then(({ refused, service, payload }) => {
        seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, refused, service, payload, bodyBytes: body.length });
        if (refused !== null) return reply(res, 403, "application/xml", `<Error><Code>SignatureDoesNotMatch</Code><Message>${refused}</Message></Error>`);
        route(req, payload === "STREAMING-UNSIGNED-PAYLOAD-TRAILER" ? decodeAwsChunked(body) : body, res, objects, keys);
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    objects,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

function reply(res: http.ServerResponse, status: number, type: string, text: string | Buffer): void {
  res.writeHead(status, { "content-type": type, "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function route(req: http.IncomingMessage, body: Buffer, res: http.ServerResponse, objects: Map<string, Buffer>, keys: AwsTestKeys): void {
  const path = (req.url ?? "/").split("?")[0] ?? "/";
  const invoke = /^\/model\/([^/]+)\/invoke$/.exec(path);
  if (invoke !== null && req.method === "POST") {
    return reply(res, 200, "application/json", JSON.stringify({ model: decodeURIComponent(invoke[1] ?? ""), received: JSON.parse(body.toString("utf8")) as unknown }));
  }
  // Answers with the secret key in its body, to show that the agent gets it scrubbed.
  if (path === "/leak") return reply(res, 200, "text/plain", `secret=${keys.secretAccessKey}`);
  if (req.method === "PUT") {
    objects.set(path, body);
    res.writeHead(200, { etag: `"${createHash("md5").update(body).digest("hex")}"`, "content-length": 0 });
    return void res.end();
  }
  const stored = objects.get(path);
  if (req.method === "GET" && stored !== undefined) return reply(res, 200, "application/octet-stream", stored);
  reply(res, 404, "application/xml", "<Error><Code>NoSuchKey</Code></Error>");
}

/** The data of an aws-chunked body with unsigned chunks (`size\r\ndata\r\n`..., `0\r\n`, trailers). */
export function decodeAwsChunked(body: Buffer): Buffer {
  const out: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = body.indexOf("\r\n", at);
    if (eol < 0) throw new Error("aws-chunked: missing chunk size line");
    const size = Number.parseInt(body.toString("latin1", at, eol).split(";")[0] ?? "", 16);
    if (!Number.isFinite(size)) throw new Error("aws-chunked: bad chunk size");
    if (size === 0) return Buffer.concat(out);
    out.push(body.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
}

interface Verdict {
  refused: string | null;
  service: string;
  payload: string | undefined;
}

/** Checks one request's SigV4 signature as AWS would (with smithy's signer). */
async function verify(req: http.IncomingMessage, body: Buffer, keys: AwsTestKeys): Promise<Verdict> {
  const auth = req.headers.authorization ?? "";
  const match = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(auth);
  const payload = req.headers["x-amz-content-sha256"] as string | undefined;
  if (match === null) return { refused: "no SigV4 Authorization header", service: "", payload };
  const [, keyId, , region = "", service = "", signedList = "", signature] = match;
  const result = (refused: string | null): Verdict => ({ refused, service, payload });
  if (keyId !== keys.accessKeyId) return result("unknown access key id");
  if ((req.headers["x-amz-security-token"] ?? undefined) !== keys.sessionToken) return result("wrong or missing session token");
  if (payload !== undefined && /^[0-9a-f]{64}$/.test(payload) && payload !== sha256Hex(body)) return result("x-amz-content-sha256 does not match the body");
  if (payload !== undefined && !/^[0-9a-f]{64}$/.test(payload) && (service !== "s3" || !["UNSIGNED-PAYLOAD", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"].includes(payload))) return result(`payload ${payload} not accepted`);
  const signed = signedList.split(";");
  const headers: Record<string, string> = {};
  for (const name of signed) {
    const value = req.headers[name];
    if (value === undefined) return result(`signed header ${name} missing`);
    headers[name] = Array.isArray(value) ? value.join(",") : value;
  }
  const [path = "/", search = ""] = (req.url ?? "/").split("?");
  const query: Record<string, string> = {};
  for (const [name, value] of new URLSearchParams(search)) query[name] = value;
  const date = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(headers["x-amz-date"] ?? "");
  if (date === null) return result("no x-amz-date");
  const signingDate = new Date(`${date[1]}-${date[2]}-${date[3]}T${date[4]}:${date[5]}:${date[6]}Z`);
  if (Math.abs(Date.now() - signingDate.getTime()) > 15 * 60_000) return result("request too old");
  const signer = new SignatureV4({
    credentials: { accessKeyId: keys.accessKeyId, secretAccessKey: keys.secretAccessKey, ...(keys.sessionToken === undefined ? {} : { sessionToken: keys.sessionToken }) },
    region, service, sha256: NodeSha256, uriEscapePath: service !== "s3", applyChecksum: false,
  });
  const hostHeader = headers.host ?? "";
  const request = { method: req.method ?? "GET", protocol: "https:", hostname: hostHeader.replace(/:\d+$/, ""), path, query, headers, body: payload === undefined ? body : undefined };
  const out = await signer.sign(request, { signingDate, signableHeaders: new Set(signed) });
  const expected = /Signature=([0-9a-f]{64})/.exec(String(out.headers.authorization ?? ""))?.[1];
  return result(expected === signature ? null : "signature does not match");
}
