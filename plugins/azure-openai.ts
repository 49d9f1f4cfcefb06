import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "azure-openai",
  displayName: "Azure OpenAI",
  authType: "api_key",
  // Each resource has its own host; keys go in `api-key` (Entra tokens would use Bearer).
  inject: [
    { host: "*.openai.azure.com", name: "api-key", format: "{token}" },
    { host: "*.cognitiveservices.azure.com", name: "api-key", format: "{token}" },
  ],
  apiKey: {
    pattern: "^[A-Za-z0-9]{32,84}$",
    hint: "copy KEY 1 or KEY 2 from the resource's Keys and Endpoint page",
    keyUrl: "https://portal.azure.com/",
  },
  env: { AZURE_OPENAI_API_KEY: "api_key" },
  docsUrl: "https://learn.microsoft.com/en-us/azure/ai-services/openai/reference#authentication",
});
