import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "fireworks",
  displayName: "Fireworks AI",
  authType: "api_key",
  inject: [{ host: "api.fireworks.ai" }],
  apiKey: {
    pattern: "^fw_[A-Za-z0-9]{20,}$",
    hint: "Fireworks API keys start with \"fw_\"",
    keyUrl: "https://app.fireworks.ai/settings/users/api-keys",
  },
  env: { FIREWORKS_API_KEY: "api_key" },
  docsUrl: "https://docs.fireworks.ai/api-reference/introduction",
});
