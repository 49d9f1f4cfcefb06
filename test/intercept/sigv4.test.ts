/**
 * AWS SigV4 through the in-process interceptor: the AWS SDK for JavaScript v3 (with its fetch
 * handler, so that its requests go through the patched fetch) holds placeholder credentials;
 * every request to the declared AWS hosts is re-signed with the stored keys and checked by the
 * stand-in with @smithy/signature-v4. S3 PutObject, a streamed upload, GetObject, Bedrock
 * InvokeModel; the SDK pointed at a host the provider does not declare sends nothing signed.
 */
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { BedrockRuntimeClient, InvokeModelCommand } from "@aws-sdk/client-bedrock-runtime";
import { FetchHttpHandler } from "@smithy/fetch-http-handler";
import { createAuthService, type AuthService } from "../../src/core/auth-service.ts";
import "../../src/register.ts";
import { intercept } from "../../src/intercept/index.ts";
import { parseResolveSpec } from "../../src/runtime/upstream.ts";
import { createCertificateAuthority, createMemoryCaStore } from "../../src/proxy/ca.ts";
import { tempHome } from "../helpers/cli.ts";
import { startAwsUpstream, type AwsTestKeys, type AwsUpstream } from "../helpers/aws-upstream.ts";
import { startHttpsUpstream, type TestUpstream } from "../helpers/proxy-upstream.ts";

const KEYS: AwsTestKeys = { accessKeyId: "ASIAREALKEY000000002", secretAccessKey: "anotherRealSecret/0123456789+abcdefABCDE", sessionToken: "intercept-session-token-IQoJb3JpZ2lu" };
const PLACEHOLDER = { accessKeyId: "AKIAPLACEHOLDER00000", secretAccessKey: "placeholder-secret-not-real-000000000000", sessionToken: "placeholder-token" };
let home: Awaited<ReturnType<typeof tempHome>>;
let aws: AwsUpstream;
let other: TestUpstream;
let service: AuthService;
let caFile: string;

before(async () => {
  home = await tempHome();
  const ca = await createCertificateAuthority(createMemoryCaStore());
  aws = await startAwsUpstream(ca, KEYS);
  other = await startHttpsUpstream(() => ca);
  caFile = join(home.home, "upstream-ca.pem");
  await writeFile(caFile, ca.caCertPem());
  service = await createAuthService({ home: home.home });
  const keys = JSON.stringify({ access_key_id: KEYS.accessKeyId, secret_access_key: KEYS.secretAccessKey, session_token: KEYS.sessionToken });
  await service.login("aws", { interaction: { notify: () => undefined, openUrl: async () => undefined, readPipedSecret: async () => keys } });
});
after(async () => {
  await Promise.all([aws.close(), other.close()]);
  await service.close();
  await home.cleanup();
});

/**
 * intercept() with the stand-in reached under the AWS names, through its `upstream` option: the
 * environment is shared with the test files Deno runs in parallel threads of one process.
 */
async function withIntercept(fn: () => Promise<void>): Promise<void> {
  const resolve = parseResolveSpec([`s3.us-east-1.amazonaws.com:${aws.port}:127.0.0.1`, `bedrock-runtime.us-west-2.amazonaws.com:${aws.port}:127.0.0.1`, `other.example.test:${other.port}:127.0.0.1`].join(","));
  const restore = await intercept({ service, upstream: { extraCaPem: await readFile(caFile, "utf8"), resolve } });
  try {
    await fn();
  } finally {
    await restore();
  }
}

const s3 = (endpoint = `https://s3.us-east-1.amazonaws.com:${aws.port}`) =>
  // No CRC32 of a Web stream body (the SDK cannot compute one on a flowing stream).
  new S3Client({ endpoint, forcePathStyle: true, region: "us-east-1", credentials: PLACEHOLDER, requestHandler: new FetchHttpHandler(), maxAttempts: 1, requestChecksumCalculation: "WHEN_REQUIRED" });

test("S3 PutObject, a streamed PutObject and GetObject through the interceptor, each verified", async () => {
  const before = aws.seen.length;
  await withIntercept(async () => {
    const client = s3();
    const put = await client.send(new PutObjectCommand({ Bucket: "b", Key: "k.txt", Body: "intercepted body", ContentType: "text/plain" }));
    assert.equal(put.$metadata.httpStatusCode, 200);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 8; i++) controller.enqueue(new Uint8Array(32 * 1024).fill(65 + i));
        controller.close();
      },
    });
    const streamed = await client.send(new PutObjectCommand({ Bucket: "b", Key: "stream.bin", Body: stream, ContentLength: 8 * 32 * 1024 }));
    assert.equal(streamed.$metadata.httpStatusCode, 200);
    const got = await client.send(new GetObjectCommand({ Bucket: "b", Key: "k.txt" }));
    assert.equal(await got.Body?.transformToString(), "intercepted body");
  });
  const seen = aws.seen.slice(before);
  assert.equal(seen.length, 3);
  for (const q of seen) {
    assert.equal(q.refused, null, q.refused ?? "");
    assert.equal(q.headers["x-amz-security-token"], KEYS.sessionToken);
  }
  // The SDK could not hash a stream: it declared it unsigned and the body was streamed as is.
  assert.equal(seen[1]?.payload, "UNSIGNED-PAYLOAD");
  assert.match(seen[0]?.payload ?? "", /^[0-9a-f]{64}$/);
  assert.equal(aws.objects.get("/b/stream.bin")?.length, 8 * 32 * 1024);
});

test("Bedrock InvokeModel through the interceptor: signed as service bedrock", async () => {
  const before = aws.seen.length;
  await withIntercept(async () => {
    const client = new BedrockRuntimeClient({ endpoint: `https://bedrock-runtime.us-west-2.amazonaws.com:${aws.port}`, region: "us-west-2", credentials: PLACEHOLDER, requestHandler: new FetchHttpHandler(), maxAttempts: 1 });
    const out = await client.send(new InvokeModelCommand({ modelId: "amazon.titan-text-lite-v1", contentType: "application/json", body: JSON.stringify({ inputText: "hello" }) }));
    assert.deepEqual(JSON.parse(new TextDecoder().decode(out.body)), { model: "amazon.titan-text-lite-v1", received: { inputText: "hello" } });
    // aws4fetch sends no body hash outside S3: the interceptor reads the body and hashes it.
    const { AwsClient } = await import("aws4fetch");
    const own = new AwsClient({ ...PLACEHOLDER, service: "bedrock", region: "us-west-2" });
    const res = await own.fetch(`https://bedrock-runtime.us-west-2.amazonaws.com:${aws.port}/model/m1/invoke`, { method: "POST", body: JSON.stringify({ n: 1 }) });
    assert.deepEqual(await res.json(), { model: "m1", received: { n: 1 } });
  });
  for (const q of aws.seen.slice(before)) {
    assert.equal(q.refused, null);
    assert.equal(q.service, "bedrock");
  }
  assert.equal(aws.seen.length, before + 2);
  assert.equal(aws.seen[before + 1]?.payload, undefined);
});

test("without the interceptor the stand-in refuses the placeholder signature", async () => {
  const before = aws.seen.length;
  // The SDK reaches the stand-in directly (by IP and SNI through its own agent is not at hand
  // with the fetch handler): sign with the placeholder and send with node:https.
  const { AwsV4Signer } = await import("aws4fetch");
  const url = `https://127.0.0.1:${aws.port}/b/k.txt`;
  const signed = await new AwsV4Signer({ url, method: "GET", ...PLACEHOLDER, service: "s3", region: "us-east-1" }).sign();
  const https = await import("node:https");
  const ca = await readFile(caFile, "utf8");
  const status = await new Promise<number>((resolve, reject) => {
    https.get(url, { ca, servername: "s3.us-east-1.amazonaws.com", headers: Object.fromEntries(signed.headers) }, (res) => (res.resume(), resolve(res.statusCode ?? 0))).on("error", reject);
  });
  assert.equal(status, 403);
  assert.equal(aws.seen[before]?.refused, "unknown access key id");
});

test("the SDK pointed at an undeclared host: nothing is signed with the stored keys", async () => {
  await withIntercept(async () => {
    const client = s3(`https://other.example.test:${other.port}`);
    // The echo upstream's answer is no S3 answer; what matters is what it received.
    await client.send(new GetObjectCommand({ Bucket: "b", Key: "k.txt" })).catch(() => undefined);
  });
  const q = other.requests.at(-1);
  assert.ok(q !== undefined, "the request reached the other host unchanged");
  const auth = String(q.headers.authorization ?? "");
  assert.ok(auth.includes(PLACEHOLDER.accessKeyId) && !auth.includes(KEYS.accessKeyId), "it carries the agent's own placeholder signature only");
  assert.equal(q.headers["x-amz-security-token"], PLACEHOLDER.sessionToken);
});
