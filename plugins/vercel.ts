import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "vercel",
  displayName: "Vercel",
  authType: "api_key",
  inject: [{ host: "api.vercel.com" }],
  apiKey: {
    hint: "create a token under Account Settings > Tokens",
    keyUrl: "https://vercel.com/account/settings/tokens",
  },
  // The Vercel CLI reads VERCEL_TOKEN.
  env: { VERCEL_TOKEN: "api_key" },
  docsUrl: "https://vercel.com/docs/rest-api#authentication",
});
