import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "cohere",
  displayName: "Cohere",
  authType: "api_key",
  // api.cohere.ai is the former host, still served.
  inject: [{ host: "api.cohere.com" }, { host: "api.cohere.ai" }],
  apiKey: {
    hint: "create a key in the Cohere dashboard under API Keys",
    keyUrl: "https://dashboard.cohere.com/api-keys",
  },
  // Cohere's SDKs read CO_API_KEY.
  env: { CO_API_KEY: "api_key", COHERE_API_KEY: "api_key" },
  docsUrl: "https://docs.cohere.com/reference/about",
});
