import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "voyage",
  displayName: "Voyage AI",
  authType: "api_key",
  inject: [{ host: "api.voyageai.com" }],
  apiKey: {
    pattern: "^pa-[A-Za-z0-9_-]{20,}$",
    hint: "Voyage API keys start with \"pa-\"",
    keyUrl: "https://dashboard.voyageai.com/organization/api-keys",
  },
  env: { VOYAGE_API_KEY: "api_key" },
  docsUrl: "https://docs.voyageai.com/docs/api-key-and-installation",
});
