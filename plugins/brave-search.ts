import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "brave-search",
  displayName: "Brave Search API",
  authType: "api_key",
  inject: [{ host: "api.search.brave.com", name: "X-Subscription-Token", format: "{token}" }],
  apiKey: {
    hint: "copy the key of your subscription under API Keys",
    keyUrl: "https://api-dashboard.search.brave.com/app/keys",
  },
  // Brave's MCP server reads BRAVE_API_KEY.
  env: { BRAVE_API_KEY: "api_key", BRAVE_SEARCH_API_KEY: "api_key" },
  docsUrl: "https://api-dashboard.search.brave.com/app/documentation/web-search/get-started",
});
