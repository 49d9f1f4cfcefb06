import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "livestorm",
  displayName: "Livestorm",
  authType: "api_key",
  // API tokens go bare in Authorization (no "Bearer"); Bearer is for OAuth access tokens.
  inject: [{ host: "api.livestorm.co", format: "{token}" }],
  apiKey: {
    hint: "create a token under Account settings > Integrations > Public API",
    keyUrl: "https://app.livestorm.co/#/settings?page=integrations",
  },
  env: { LIVESTORM_API_TOKEN: "api_key" },
  docsUrl: "https://developers.livestorm.co/docs/authentication",
});
