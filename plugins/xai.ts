import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "xai",
  displayName: "xAI (Grok)",
  authType: "api_key",
  inject: [{ host: "api.x.ai" }],
  apiKey: {
    pattern: "^xai-[A-Za-z0-9]{20,}$",
    hint: "xAI API keys start with \"xai-\"",
    keyUrl: "https://console.x.ai/",
  },
  env: { XAI_API_KEY: "api_key" },
  docsUrl: "https://docs.x.ai/docs/api-reference",
});
