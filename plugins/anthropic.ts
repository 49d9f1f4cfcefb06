import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "anthropic",
  displayName: "Anthropic",
  authType: "api_key",
  // Only the key is injected: the `anthropic-version` header is the agent's (its SDK sets it).
  inject: [{ host: "api.anthropic.com", name: "x-api-key", format: "{token}" }],
  apiKey: {
    pattern: "^sk-ant-[A-Za-z0-9_-]{10,}$",
    hint: "Anthropic API keys start with \"sk-ant-\"",
    keyUrl: "https://console.anthropic.com/settings/keys",
  },
  env: { ANTHROPIC_API_KEY: "api_key" },
  docsUrl: "https://docs.anthropic.com/en/api/overview",
});
