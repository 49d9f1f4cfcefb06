import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "replicate",
  displayName: "Replicate",
  authType: "api_key",
  inject: [{ host: "api.replicate.com" }],
  apiKey: {
    pattern: "^r8_[A-Za-z0-9]{20,}$",
    hint: "Replicate API tokens start with \"r8_\"",
    keyUrl: "https://replicate.com/account/api-tokens",
  },
  env: { REPLICATE_API_TOKEN: "api_key" },
  docsUrl: "https://replicate.com/docs/reference/http#authentication",
});
