import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "firecrawl",
  displayName: "Firecrawl",
  authType: "api_key",
  inject: [{ host: "api.firecrawl.dev" }],
  apiKey: {
    pattern: "^fc-[A-Za-z0-9]{20,}$",
    hint: "Firecrawl API keys start with \"fc-\"",
    keyUrl: "https://www.firecrawl.dev/app/api-keys",
  },
  env: { FIRECRAWL_API_KEY: "api_key" },
  docsUrl: "https://docs.firecrawl.dev/api-reference/introduction",
});
