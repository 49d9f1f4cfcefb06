import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "jina",
  displayName: "Jina AI",
  authType: "api_key",
  // Reader (r.), Search (s.), DeepSearch and the embedding/rerank API share one key.
  inject: [
    { host: "api.jina.ai" },
    { host: "r.jina.ai" },
    { host: "s.jina.ai" },
    { host: "deepsearch.jina.ai" },
  ],
  apiKey: {
    pattern: "^jina_[A-Za-z0-9_-]{20,}$",
    hint: "Jina API keys start with \"jina_\"",
    keyUrl: "https://jina.ai/api-dashboard/key-manager",
  },
  env: { JINA_API_KEY: "api_key" },
  docsUrl: "https://jina.ai/reader/",
});
