/**
 * AWS SigV4 through the real `authsome run`: the agent is the AWS SDK for JavaScript v3 with the
 * run's placeholder credentials in its environment; the proxy re-signs every request to the
 * declared AWS hosts with the stored keys; a local HTTPS stand-in (test/helpers/aws-upstream.ts)
 * checks each signature with @smithy/signature-v4 and refuses anything else. S3 PutObject and
 * GetObject (path style), a streamed upload, Bedrock InvokeModel; the placeholder sent to
 * another host trips; no secret reaches the child, its output or the audit log.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import https from "node:https";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { AwsV4Signer } from "aws4fetch";
import { createCertificateAuthority, createMemoryCaStore, type CertificateAuthority } from "../../src/proxy/ca.ts";
import { runCli, tempHome } from "../helpers/cli.ts";
import { startAwsUpstream, type AwsTestKeys, type AwsUpstream } from "../helpers/aws-upstream.ts";
import { startHttpsUpstream, type TestUpstream } from "../helpers/proxy-upstream.ts";
import { repoRoot } from "../helpers/spawn-runtime.ts";

const KEYS: AwsTestKeys = { accessKeyId: "AKIAREALKEY000000001", secretAccessKey: "realSecretAccessKey/0123456789+abcdefABCD", sessionToken: "real-session-token-FwoGZXIvYXdzEJr" };
let home: Awaited<ReturnType<typeof tempHome>>;
let ca: CertificateAuthority;
let aws: AwsUpstream;
let sink: TestUpstream;
let env: Record<string, string>;
let caFile: string;
let s3: string;
let bedrock: string;

before(async () => {
  home = await tempHome();
  ca = await createCertificateAuthority(createMemoryCaStore());
  aws = await startAwsUpstream(ca, KEYS);
  sink = await startHttpsUpstream(() => ca);
  caFile = join(home.home, "upstream-ca.pem");
  await writeFile(caFile, ca.caCertPem());
  const hosts = ["s3.us-east-1.amazonaws.com", "bedrock-runtime.us-west-2.amazonaws.com"];
  const resolve = [...hosts.map((h) => `${h}:${aws.port}:127.0.0.1`), `sink.example.test:${sink.port}:127.0.0.1`].join(",");
  env = { ...home.env, AUTHSOME_UPSTREAM_RESOLVE: resolve, AUTHSOME_UPSTREAM_CA: caFile, AWS_REGION: "us-east-1" };
  s3 = `https://s3.us-east-1.amazonaws.com:${aws.port}`;
  bedrock = `https://bedrock-runtime.us-west-2.amazonaws.com:${aws.port}`;
  // Another provider's host, so that the tunnel to it is intercepted and its requests seen.
  const sinkPlugin = join(home.home, "sink.json");
  await writeFile(sinkPlugin, JSON.stringify({ name: "sink", authType: "api_key", inject: [{ host: "sink.example.test" }] }));
  const keys = JSON.stringify({ Credentials: { AccessKeyId: KEYS.accessKeyId, SecretAccessKey: KEYS.secretAccessKey, SessionToken: KEYS.sessionToken } });
  for (const [args, input] of [[["login", "aws"], keys], [["providers", "add", sinkPlugin], ""], [["login", "sink"], "sink-key-000000001"]] as const) {
    const r = await runCli([...args], { env, input });
    assert.equal(r.code, 0, r.stderr);
  }
});
after(async () => {
  await Promise.all([aws.close(), sink.close()]);
  await home.cleanup();
});

const fixture = join(repoRoot, "test/fixtures/run/aws-sdk.mjs");
type Op = { op: string; status?: number; body?: unknown; error?: string; message?: string };
async function agent(ops: string[], s3Endpoint = s3): Promise<{ results: Op[]; stdout: string; stderr: string }> {
  const r = await runCli(["run", "--", "node", fixture, s3Endpoint, bedrock, ...ops], { env });
  assert.equal(r.code, 0, r.stderr);
  return { results: r.stdout.trim().split("\n").map((line) => JSON.parse(line) as Op), stdout: r.stdout, stderr: r.stderr };
}
const noSecret = (text: string): void => {
  for (const secret of [KEYS.secretAccessKey, KEYS.sessionToken ?? ""]) assert.ok(!text.includes(secret), "no secret in the text");
};

test("the stand-in refuses a request signed with other keys (its check can fail)", async () => {
  const url = `https://127.0.0.1:${aws.port}/agent-bucket/x`;
  const signed = await new AwsV4Signer({ url, method: "GET", accessKeyId: KEYS.accessKeyId, secretAccessKey: "wrongSecretAccessKey/0123456789+abcdefAB", sessionToken: KEYS.sessionToken, service: "s3", region: "us-east-1" }).sign();
  const status = await new Promise<number>((resolve, reject) => {
    const headers = Object.fromEntries(signed.headers);
    https.get(url, { ca: ca.caCertPem(), servername: "s3.us-east-1.amazonaws.com", headers }, (res) => (res.resume(), resolve(res.statusCode ?? 0))).on("error", reject);
  });
  assert.equal(status, 403);
  assert.equal(aws.seen.at(-1)?.refused, "signature does not match");
});

test("S3 PutObject then GetObject through authsome run with placeholder credentials", async () => {
  const before = aws.seen.length;
  const { results, stdout, stderr } = await agent(["put", "get"]);
  assert.deepEqual(results, [{ op: "put", status: 200 }, { op: "get", status: 200, body: "hello from the agent" }]);
  const seen = aws.seen.slice(before);
  assert.equal(seen.length, 2);
  for (const q of seen) {
    assert.equal(q.refused, null);
    assert.equal(q.service, "s3");
    assert.equal(q.headers["x-amz-security-token"], KEYS.sessionToken);
  }
  assert.equal(aws.objects.get("/agent-bucket/notes/hello.txt")?.toString(), "hello from the agent");
  noSecret(stdout + stderr);
});

test("Bedrock InvokeModel: a JSON POST signed as service bedrock (SDK, and aws4fetch whose body the proxy hashes)", async () => {
  const before = aws.seen.length;
  const { results } = await agent(["bedrock", "bedrock-aws4fetch"]);
  assert.equal(results[0]?.status, 200, JSON.stringify(results));
  assert.deepEqual((results[0]?.body as { model: string }).model, "anthropic.claude-3-haiku-20240307-v1:0");
  assert.deepEqual(results[1], { op: "bedrock-aws4fetch", status: 200, body: { model: "amazon.titan-text-lite-v1", received: { inputText: "hi" } } });
  const [sdk, own] = aws.seen.slice(before);
  for (const q of [sdk, own]) {
    assert.equal(q?.refused, null);
    assert.equal(q?.service, "bedrock");
  }
  // The SDK sends the body's hash, which the stand-in checked against the bytes; aws4fetch sends
  // none outside S3, so the proxy read and hashed the body, and the stand-in hashed it again.
  assert.match(sdk?.payload ?? "", /^[0-9a-f]{64}$/);
  assert.equal(own?.payload, undefined);
});

test("a streamed S3 upload goes through unsigned-payload, every byte stored", async () => {
  const before = aws.seen.length;
  const { results } = await agent(["stream"]);
  assert.deepEqual(results, [{ op: "stream", status: 200 }]);
  const q = aws.seen[before];
  assert.equal(q?.refused, null);
  assert.ok(q?.payload === "STREAMING-UNSIGNED-PAYLOAD-TRAILER" || q?.payload === "UNSIGNED-PAYLOAD" || /^[0-9a-f]{64}$/.test(q?.payload ?? ""), String(q?.payload));
  assert.equal(aws.objects.get("/agent-bucket/big.bin")?.length, 64 * 16 * 1024);
});

test("the child holds placeholders only; the response is scrubbed of the secret key", async () => {
  const r = await runCli(["run", "--", "sh", "-c", "echo \"$AWS_ACCESS_KEY_ID $AWS_SECRET_ACCESS_KEY $AWS_SESSION_TOKEN\""], { env });
  assert.equal(r.code, 0, r.stderr);
  const [id, secret] = r.stdout.trim().split(" ");
  assert.match(id ?? "", /^AKIA[A-Z0-9]{16}$/);
  assert.notEqual(id, KEYS.accessKeyId);
  assert.notEqual(secret, KEYS.secretAccessKey);
  noSecret(r.stdout);
  const { results } = await agent(["leak"]);
  assert.equal(results[0]?.status, 200);
  assert.match(String(results[0]?.body), /^secret=\[authsome/);
});

test("the SDK pointed at another provider's host: its placeholder key id trips, nothing arrives", async () => {
  const before = sink.requests.length;
  const { results } = await agent(["get"], `https://sink.example.test:${sink.port}`);
  assert.equal(results[0]?.status, 403, JSON.stringify(results));
  assert.equal(sink.requests.length, before, "the sink received nothing");
  const audit = await runCli(["audit", "--json"], { env });
  const entries = (JSON.parse(audit.stdout) as { entries: { action: string; provider?: string; host?: string }[] }).entries;
  assert.ok(entries.some((e) => e.action === "egress.exfiltration" && e.provider === "aws" && e.host === "sink.example.test"));
  noSecret(audit.stdout);
});

const hasAwsCli = spawnSync("aws", ["--version"]).status === 0;

test("the AWS CLI (botocore) under authsome run: s3api put-object and get-object", { skip: hasAwsCli ? false : "no aws CLI on PATH" }, async () => {
  const config = join(home.home, "aws-config");
  await writeFile(config, "[default]\nregion = us-east-1\ns3 =\n  addressing_style = path\n");
  const file = join(home.home, "upload.txt");
  await writeFile(file, "uploaded by the aws CLI");
  const out = join(home.home, "download.txt");
  const before = aws.seen.length;
  const script = `aws s3api put-object --endpoint-url ${s3} --bucket cli-bucket --key cli.txt --body ${file} >/dev/null && aws s3api get-object --endpoint-url ${s3} --bucket cli-bucket --key cli.txt ${out} >/dev/null && cat ${out}`;
  const r = await runCli(["run", "--", "sh", "-c", script], { env: { ...env, AWS_CONFIG_FILE: config, AWS_SHARED_CREDENTIALS_FILE: join(home.home, "none") } });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "uploaded by the aws CLI");
  const seen = aws.seen.slice(before);
  assert.ok(seen.length >= 2);
  for (const q of seen) assert.equal(q.refused, null, q.refused ?? "");
  noSecret(r.stdout + r.stderr);
});

test("curl --aws-sigv4 with the placeholders: a POST waiting for 100 Continue, body hashed by the proxy", async () => {
  const before = aws.seen.length;
  // curl waits (here up to 60 s, past --max-time) for 100 Continue: the proxy must send it.
  const script = `curl -sS --fail --aws-sigv4 "aws:amz:us-west-2:bedrock" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" -H "x-amz-security-token: $AWS_SESSION_TOKEN" -H "Expect: 100-continue" --expect100-timeout 60 --max-time 20 -H "content-type: application/json" --data '{"inputText":"from curl"}' ${bedrock}/model/amazon.titan-text-lite-v1/invoke`;
  const r = await runCli(["run", "--", "sh", "-c", script], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { model: "amazon.titan-text-lite-v1", received: { inputText: "from curl" } });
  assert.equal(aws.seen[before]?.refused, null);
  assert.equal(aws.seen[before]?.service, "bedrock");
});

test("a chunk-signed upload is refused with the reason (400), nothing reaches the service", async () => {
  const before = aws.seen.length;
  const script = `curl -sS -o /dev/null -w '%{http_code}' -X PUT -H "x-amz-content-sha256: STREAMING-AWS4-HMAC-SHA256-PAYLOAD" -H "content-encoding: aws-chunked" --data-binary "5;chunk-signature=00\r\nhello\r\n0;chunk-signature=00\r\n\r\n" ${s3}/agent-bucket/chunked.bin; curl -sS -X PUT -H "x-amz-content-sha256: STREAMING-AWS4-HMAC-SHA256-PAYLOAD" --data-binary x ${s3}/agent-bucket/chunked.bin`;
  const r = await runCli(["run", "--", "sh", "-c", script], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^400authsome proxy: .*chunk-signed upload .*cannot be re-signed/);
  assert.equal(aws.seen.length, before);
});

test("a body read whole for signing still goes through the tripwire: another provider's key in it is 403, nothing sent", async () => {
  const before = aws.seen.length;
  const script = `curl -sS -w ' %{http_code}' --aws-sigv4 "aws:amz:us-west-2:bedrock" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" -H "content-type: application/json" --data '{"inputText":"key sink-key-000000001"}' ${bedrock}/model/m/invoke`;
  const r = await runCli(["run", "--", "sh", "-c", script], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /a stored sink credential \(in its body\)[^]* 403$/);
  assert.equal(aws.seen.length, before, "nothing reached the service");
});
