import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "serpapi",
  displayName: "SerpApi",
  authType: "api_key",
  // SerpApi takes the key only as the `api_key` query parameter.
  inject: [{ host: "serpapi.com", in: "query", name: "api_key" }],
  apiKey: {
    pattern: "^[0-9a-f]{64}$",
    hint: "a SerpApi key is 64 hexadecimal characters",
    keyUrl: "https://serpapi.com/manage-api-key",
  },
  // LangChain's SerpAPI wrapper reads SERPAPI_API_KEY.
  env: { SERPAPI_API_KEY: "api_key", SERPAPI_KEY: "api_key" },
  docsUrl: "https://serpapi.com/search-api",
});
