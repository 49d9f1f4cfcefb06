import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "tolt",
  displayName: "Tolt",
  authType: "api_key",
  inject: [{ host: "api.tolt.com" }],
  apiKey: {
    hint: "create a key under Settings > Integrations > API",
    keyUrl: "https://app.tolt.io/settings",
  },
  env: { TOLT_API_KEY: "api_key" },
  docsUrl: "https://docs.tolt.com/api-reference/introduction",
});
