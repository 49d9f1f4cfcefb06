import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "instantly",
  displayName: "Instantly",
  authType: "api_key",
  // API v2 (Bearer); v1 took the key as a query parameter and is deprecated.
  inject: [{ host: "api.instantly.ai" }],
  apiKey: {
    hint: "create a v2 key under Settings > Integrations > API",
    keyUrl: "https://app.instantly.ai/app/settings/integrations",
  },
  env: { INSTANTLY_API_KEY: "api_key" },
  docsUrl: "https://developer.instantly.ai/getting-started/authorization",
});
