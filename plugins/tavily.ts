import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "tavily",
  displayName: "Tavily",
  authType: "api_key",
  inject: [{ host: "api.tavily.com" }],
  apiKey: {
    pattern: "^tvly-[A-Za-z0-9_-]{20,}$",
    hint: "Tavily API keys start with \"tvly-\"",
    keyUrl: "https://app.tavily.com/home",
  },
  env: { TAVILY_API_KEY: "api_key" },
  docsUrl: "https://docs.tavily.com/documentation/api-reference/introduction",
});
