import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "stability",
  displayName: "Stability AI",
  authType: "api_key",
  inject: [{ host: "api.stability.ai" }],
  apiKey: {
    pattern: "^sk-[A-Za-z0-9]{20,}$",
    hint: "Stability API keys start with \"sk-\"",
    keyUrl: "https://platform.stability.ai/account/keys",
  },
  env: { STABILITY_API_KEY: "api_key" },
  docsUrl: "https://platform.stability.ai/docs/getting-started/authentication",
});
