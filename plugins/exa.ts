import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "exa",
  displayName: "Exa",
  authType: "api_key",
  inject: [{ host: "api.exa.ai", name: "x-api-key", format: "{token}" }],
  apiKey: {
    hint: "create a key in the Exa dashboard under API Keys",
    keyUrl: "https://dashboard.exa.ai/api-keys",
  },
  env: { EXA_API_KEY: "api_key" },
  docsUrl: "https://docs.exa.ai/reference/getting-started",
});
