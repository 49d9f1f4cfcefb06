import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "aws",
  displayName: "Amazon Web Services",
  // Requests are signed (SigV4), not given a header: region and signing name come from each
  // host (s3.us-east-1.amazonaws.com, bedrock-runtime.us-west-2.amazonaws.com).
  authType: "aws_sigv4",
  inject: [{ host: "*.amazonaws.com" }],
  // AKIA: long-term keys; ASIA: temporary keys (with a session token).
  apiKey: {
    pattern: "^(AKIA|ASIA)[A-Z0-9]{16}$",
    hint: "AWS access key ids are AKIA or ASIA and 16 upper-case letters or digits",
    keyUrl: "https://console.aws.amazon.com/iam/home#/security_credentials",
  },
  env: { AWS_ACCESS_KEY_ID: "access_key_id", AWS_SECRET_ACCESS_KEY: "secret_access_key", AWS_SESSION_TOKEN: "session_token" },
  docsUrl: "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv.html",
});
