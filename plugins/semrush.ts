import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "semrush",
  displayName: "Semrush",
  authType: "api_key",
  // The Analytics API takes the key as the `key` query parameter, not a header.
  inject: [{ host: "api.semrush.com", in: "query", name: "key" }],
  apiKey: {
    hint: "copy the API key from Subscription info > API units",
    keyUrl: "https://www.semrush.com/accounts/subscription-info/api-units",
  },
  env: { SEMRUSH_API_KEY: "api_key" },
  docsUrl: "https://developer.semrush.com/api/basics/get-started/",
});
