import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "openrouter",
  displayName: "OpenRouter",
  authType: "api_key",
  // The API lives under openrouter.ai/api; the rest of the host is the website.
  inject: [{ host: "openrouter.ai", pathPrefix: "/api" }],
  apiKey: {
    pattern: "^sk-or-[A-Za-z0-9_-]{20,}$",
    hint: "OpenRouter API keys start with \"sk-or-\"",
    keyUrl: "https://openrouter.ai/settings/keys",
  },
  env: { OPENROUTER_API_KEY: "api_key" },
  docsUrl: "https://openrouter.ai/docs/api-reference/authentication",
});
