/** `authsome login aws`'s input (src/flows/aws-keys.ts): JSON in two shapes, or lines; never a value in an error. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { AuthsomeError } from "../../src/core/errors.ts";
import { parseAwsKeys } from "../../src/flows/aws-keys.ts";

test("AWS keys at login: our JSON, the AWS CLI's Credentials JSON, two or three lines", () => {
  const want = { access_key_id: "AKIAEXAMPLE000000001", secret_access_key: "s3cr3t/key+value=0123456789", session_token: "tok" };
  assert.deepEqual(parseAwsKeys(JSON.stringify(want)), want);
  assert.deepEqual(parseAwsKeys(JSON.stringify({ Credentials: { AccessKeyId: want.access_key_id, SecretAccessKey: want.secret_access_key, SessionToken: "tok", Expiration: "2030-01-01T00:00:00Z" } })), want);
  assert.deepEqual(parseAwsKeys(`${want.access_key_id}\n${want.secret_access_key}\n`), { access_key_id: want.access_key_id, secret_access_key: want.secret_access_key });
  assert.deepEqual(parseAwsKeys(`${want.access_key_id}\r\n${want.secret_access_key}\r\ntok\r\n`), want);
  for (const bad of ["only-one-line", "{\"access_key_id\": \"AKIA\"}", "{not json"]) {
    assert.throws(() => parseAwsKeys(bad), (e: unknown) => e instanceof AuthsomeError && e.code === "usage" && !e.message.includes("AKIA"));
  }
});
