import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "together",
  displayName: "Together AI",
  authType: "api_key",
  inject: [{ host: "api.together.xyz" }, { host: "api.together.ai" }],
  apiKey: {
    hint: "copy the key from Settings > API Keys",
    keyUrl: "https://api.together.ai/settings/api-keys",
  },
  env: { TOGETHER_API_KEY: "api_key" },
  docsUrl: "https://docs.together.ai/reference/authentication-1",
});
