import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "perplexity",
  displayName: "Perplexity",
  authType: "api_key",
  inject: [{ host: "api.perplexity.ai" }],
  apiKey: {
    pattern: "^pplx-[A-Za-z0-9]{20,}$",
    hint: "Perplexity API keys start with \"pplx-\"",
    keyUrl: "https://www.perplexity.ai/settings/api",
  },
  env: { PERPLEXITY_API_KEY: "api_key", PPLX_API_KEY: "api_key" },
  docsUrl: "https://docs.perplexity.ai/",
});
