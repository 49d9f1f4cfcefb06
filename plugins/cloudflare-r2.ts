import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "cloudflare-r2",
  displayName: "Cloudflare R2",
  // R2's S3-compatible API is signed (SigV4, signing name `s3`, region `auto`) with an R2 API
  // token's access key id and secret, on the account's host.
  authType: "aws_sigv4",
  inject: [{ host: "*.r2.cloudflarestorage.com" }],
  sigv4: { service: "s3", region: "auto" },
  apiKey: {
    pattern: "^[0-9a-f]{32}$",
    hint: "an R2 access key id is 32 hexadecimal characters (R2 > Manage API tokens)",
    keyUrl: "https://dash.cloudflare.com/?to=/:account/r2/api-tokens",
  },
  env: { R2_ACCESS_KEY_ID: "access_key_id", R2_SECRET_ACCESS_KEY: "secret_access_key" },
  docsUrl: "https://developers.cloudflare.com/r2/api/s3/tokens/",
});
