/**
 * SigV4 in the egress pipeline (src/core/sigv4.ts, sign.ts), below the transports: which body
 * plan each request gets, the signing name and region read from the host, the agent's signing
 * headers replaced, the signature checked with @smithy/signature-v4; the plugin schema's
 * aws_sigv4 rules.
 */
import assert from "node:assert/strict";
import { createHash, createHmac } from "node:crypto";
import { test } from "node:test";
import { SignatureV4 } from "@smithy/signature-v4";
import { planSigning } from "../../src/core/sign.ts";
import { createSigV4Signer, serviceOf } from "../../src/core/sigv4.ts";
import { validatePlugin } from "../../src/core/plugin-schema.ts";
import { AuthsomeError } from "../../src/core/errors.ts";

const KEYS = { access_key_id: "AKIAUNITTEST00000001", secret_access_key: "unitTestSecretKey/0123456789+abcdefABCDE", session_token: "unit-session-token" };
const { signer, secrets } = createSigV4Signer(undefined, KEYS);
const body = (present: boolean, length: number | null, readsUnknownLength = false) => ({ present, length, readsUnknownLength });
const plan = (headers: string[], shape: ReturnType<typeof body>) => signer.plan({ method: "PUT", headers, body: shape });

class NodeSha256 {
  private readonly hash;
  constructor(secret?: unknown) {
    this.hash = secret === undefined ? createHash("sha256") : createHmac("sha256", Buffer.from(secret as Uint8Array));
  }
  update(data: Uint8Array | string): void {
    this.hash.update(data);
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.hash.digest()));
  }
}

/** smithy's signature for the request as sent (headers named in SignedHeaders only). */
async function smithySignature(method: string, url: URL, sent: string[], service: string, region: string, payload: Uint8Array | undefined): Promise<{ expected: string; got: string }> {
  const headers: Record<string, string> = {};
  for (let i = 0; i < sent.length; i += 2) headers[(sent[i] ?? "").toLowerCase()] = sent[i + 1] ?? "";
  const auth = headers.authorization ?? "";
  const signed = (/SignedHeaders=([^,]+)/.exec(auth)?.[1] ?? "").split(";");
  const only = Object.fromEntries(signed.map((name) => [name, headers[name] ?? ""]));
  const date = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(headers["x-amz-date"] ?? "") ?? [];
  const smithy = new SignatureV4({ credentials: { accessKeyId: KEYS.access_key_id, secretAccessKey: KEYS.secret_access_key, sessionToken: KEYS.session_token }, region, service, sha256: NodeSha256, uriEscapePath: service !== "s3", applyChecksum: false });
  const out = await smithy.sign({ method, protocol: "https:", hostname: url.hostname, path: url.pathname, query: Object.fromEntries(url.searchParams), headers: only, body: payload }, { signingDate: new Date(`${date[1]}-${date[2]}-${date[3]}T${date[4]}:${date[5]}:${date[6]}Z`), signableHeaders: new Set(signed) });
  return { expected: /Signature=(\w+)/.exec(String(out.headers.authorization))?.[1] ?? "", got: /Signature=(\w+)/.exec(auth)?.[1] ?? "" };
}

test("body plans: none or declared streams sign at once, bounded bodies are read, signed chunks refused", () => {
  assert.equal(plan([], body(false, null)), "stream");
  assert.equal(plan(["x-amz-content-sha256", "UNSIGNED-PAYLOAD"], body(true, null)), "stream");
  assert.equal(plan(["x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"], body(true, 9)), "stream");
  assert.equal(plan(["x-amz-content-sha256", "a".repeat(64)], body(true, 9)), "stream");
  assert.equal(plan([], body(true, 1024)), "read");
  assert.equal(plan([], body(true, null, true)), "read");
  const chunked = plan(["x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"], body(true, 100));
  assert.equal(typeof chunked === "object" && chunked.status, 400);
  // Unbounded: S3 takes it unsigned; another service needs the hash and is refused.
  assert.equal(plan(["Host", "s3.us-east-1.amazonaws.com", "Transfer-Encoding", "chunked"], body(true, null)), "stream");
  const other = plan(["Host", "sts.amazonaws.com", "Transfer-Encoding", "chunked"], body(true, null));
  assert.equal(typeof other === "object" && other.status, 411);
  const large = plan(["Host", "sts.amazonaws.com"], body(true, 64 * 1024 * 1024));
  assert.equal(typeof large === "object" && large.status, 413);
});

test("signing name and region from the host, or the plugin's", () => {
  const url = (host: string) => new URL(`https://${host}/`);
  assert.equal(serviceOf(undefined, [], url("s3.us-east-1.amazonaws.com")), "s3");
  assert.equal(serviceOf(undefined, [], url("bucket.s3.eu-west-1.amazonaws.com")), "s3");
  assert.equal(serviceOf(undefined, [], url("bedrock-runtime.us-west-2.amazonaws.com")), "bedrock");
  assert.equal(serviceOf(undefined, [], url("acct.r2.cloudflarestorage.com")), "s3");
  assert.equal(serviceOf(undefined, [], url("sts.amazonaws.com")), undefined, "aws4fetch reads it");
  assert.equal(serviceOf({ service: "execute-api" }, [], url("abc.example.com")), "execute-api");
});

test("an S3 PUT read whole: the agent's signing headers replaced, payload hashed, smithy agrees", async () => {
  const url = new URL("https://s3.us-east-1.amazonaws.com/bucket/dir/a%20b.txt?x-id=PutObject");
  const agent = ["Host", "s3.us-east-1.amazonaws.com", "Authorization", "AWS4-HMAC-SHA256 Credential=AKIAPLACEHOLDER/...", "X-Amz-Date", "20200101T000000Z", "X-Amz-Security-Token", "placeholder", "Content-Type", "text/plain", "Content-Length", "5", "User-Agent", "sdk"];
  const step = await planSigning(signer, "PUT", url, agent, body(true, 5));
  assert.equal(step.kind, "read");
  if (step.kind !== "read") return;
  const payload = new TextEncoder().encode("hello");
  const out = await step.finish(payload);
  const text = out.headers.join("\n");
  assert.ok(!text.includes("PLACEHOLDER") && !text.includes("placeholder") && !text.includes("20200101T000000Z"));
  assert.ok(!text.includes(KEYS.secret_access_key));
  const named = (name: string) => out.headers.filter((_, i) => i % 2 === 0 && out.headers[i]?.toLowerCase() === name).length;
  for (const name of ["authorization", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256"]) assert.equal(named(name), 1, name);
  assert.ok(out.headers.includes(createHash("sha256").update("hello").digest("hex")));
  const { expected, got } = await smithySignature("PUT", url, out.headers, "s3", "us-east-1", undefined);
  assert.equal(got, expected);
});

test("a Bedrock POST read whole carries no x-amz-content-sha256; smithy hashes the body and agrees", async () => {
  const url = new URL("https://bedrock-runtime.us-west-2.amazonaws.com/model/anthropic.claude-3-haiku-20240307-v1%3A0/invoke");
  const step = await planSigning(signer, "POST", url, ["Host", url.host, "Content-Type", "application/json"], body(true, 11));
  assert.equal(step.kind, "read");
  if (step.kind !== "read") return;
  const payload = new TextEncoder().encode("{\"a\":\"b\"} ");
  const out = await step.finish(payload);
  assert.ok(!out.headers.some((name, i) => i % 2 === 0 && name.toLowerCase() === "x-amz-content-sha256"));
  assert.match(out.headers.join(" "), /Credential=AKIAUNITTEST00000001\/\d{8}\/us-west-2\/bedrock\/aws4_request/);
  const { expected, got } = await smithySignature("POST", url, out.headers, "bedrock", "us-west-2", payload);
  assert.equal(got, expected);
});

test("an S3 PUT whose SDK sent the body's hash streams under that hash (S3 checks it against the bytes)", async () => {
  const url = new URL("https://s3.us-east-1.amazonaws.com/bucket/k");
  const claim = createHash("sha256").update("streamed").digest("hex");
  const step = await planSigning(signer, "PUT", url, ["Host", url.host, "x-amz-content-sha256", claim, "Content-Length", "8"], body(true, 8));
  assert.equal(step.kind, "signed");
  if (step.kind !== "signed") return;
  assert.deepEqual(step.headers.filter((_, i) => step.headers[i - 1] === "x-amz-content-sha256"), [claim]);
  const { expected, got } = await smithySignature("PUT", url, step.headers, "s3", "us-east-1", undefined);
  assert.equal(got, expected);
});

test("a GET signs at once; Accept-Encoding and User-Agent stay out of the signature", async () => {
  const url = new URL("https://s3.us-east-1.amazonaws.com/bucket/k");
  const step = await planSigning(signer, "GET", url, ["Host", url.host, "Accept-Encoding", "gzip", "User-Agent", "x"], body(false, null));
  assert.equal(step.kind, "signed");
  if (step.kind !== "signed") return;
  const auth = step.headers[step.headers.findIndex((h) => h === "authorization") + 1] ?? "";
  assert.match(auth, /SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token,/);
});

test("the scrubbed secrets are the secret key, the session token and the key id", () => {
  assert.deepEqual(secrets, [KEYS.secret_access_key, KEYS.session_token, KEYS.access_key_id]);
  assert.throws(() => createSigV4Signer(undefined, { access_key_id: "AKIA" }), (e: unknown) => e instanceof AuthsomeError && e.code === "credential_missing");
});

test("plugin schema: aws_sigv4 with a sigv4 block; sigv4 or a sign hook elsewhere refused", () => {
  const ok = validatePlugin({ name: "r2", authType: "aws_sigv4", inject: [{ host: "*.r2.cloudflarestorage.com" }], sigv4: { service: "s3", region: "auto" } }, "r2.json");
  assert.deepEqual(ok.sigv4, { service: "s3", region: "auto" });
  assert.throws(() => validatePlugin({ name: "x", authType: "api_key", inject: [{ host: "a.example" }], sigv4: {} }, "x.json"), /field "sigv4": needs authType "aws_sigv4"/);
  assert.throws(() => validatePlugin({ name: "x", authType: "aws_sigv4", inject: [{ host: "a.example" }], sigv4: { region: "US East" } }, "x.json"), /field "sigv4.region"/);
  assert.throws(() => validatePlugin({ name: "x", authType: "aws_sigv4", inject: [{ host: "a.example" }], sign: { source: "() => ({})" } }, "x.json"), /field "sign": a sign hook needs authType/);
  assert.throws(() => validatePlugin({ name: "x", authType: "aws_sigv4", inject: [{ host: "a.example" }], sigv4: { sevice: "s3" } }, "x.json"), /did you mean "service"/);
});
