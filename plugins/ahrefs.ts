import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "ahrefs",
  displayName: "Ahrefs",
  authType: "api_key",
  inject: [{ host: "api.ahrefs.com" }],
  apiKey: {
    hint: "create an API key under Account settings > API keys (Enterprise plans)",
    keyUrl: "https://app.ahrefs.com/account/api-keys",
  },
  env: { AHREFS_API_KEY: "api_key" },
  docsUrl: "https://docs.ahrefs.com/docs/api/reference/introduction",
});
