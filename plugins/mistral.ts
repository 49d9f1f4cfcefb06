import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "mistral",
  displayName: "Mistral AI",
  authType: "api_key",
  // Codestral keys are separate and go to codestral.mistral.ai: a different provider.
  inject: [{ host: "api.mistral.ai" }],
  apiKey: {
    hint: "create a key in La Plateforme, under API Keys",
    keyUrl: "https://console.mistral.ai/api-keys",
  },
  env: { MISTRAL_API_KEY: "api_key" },
  docsUrl: "https://docs.mistral.ai/api/",
});
