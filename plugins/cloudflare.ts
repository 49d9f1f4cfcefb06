import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "cloudflare",
  displayName: "Cloudflare",
  authType: "api_key",
  // API tokens (Bearer). The legacy Global API Key needs two headers (X-Auth-Email and
  // X-Auth-Key) and is not supported.
  inject: [{ host: "api.cloudflare.com", pathPrefix: "/client/v4" }],
  apiKey: {
    hint: "create an API token under My Profile > API Tokens",
    keyUrl: "https://dash.cloudflare.com/profile/api-tokens",
  },
  // wrangler reads CLOUDFLARE_API_TOKEN; older tools CF_API_TOKEN.
  env: { CLOUDFLARE_API_TOKEN: "api_key", CF_API_TOKEN: "api_key" },
  docsUrl: "https://developers.cloudflare.com/fundamentals/api/get-started/create-token/",
});
