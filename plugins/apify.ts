import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "apify",
  displayName: "Apify",
  authType: "api_key",
  inject: [{ host: "api.apify.com" }],
  apiKey: {
    pattern: "^apify_api_[A-Za-z0-9]{20,}$",
    hint: "Apify API tokens start with \"apify_api_\"",
    keyUrl: "https://console.apify.com/settings/integrations",
  },
  // The Apify SDK and CLI read APIFY_TOKEN.
  env: { APIFY_TOKEN: "api_key" },
  docsUrl: "https://docs.apify.com/api/v2#authentication",
});
