import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "apollo",
  displayName: "Apollo",
  authType: "api_key",
  inject: [{ host: "api.apollo.io", name: "X-Api-Key", format: "{token}" }],
  apiKey: {
    hint: "create a key under Settings > Integrations > API",
    keyUrl: "https://app.apollo.io/#/settings/integrations/api",
  },
  env: { APOLLO_API_KEY: "api_key" },
  docsUrl: "https://docs.apollo.io/docs/create-api-key",
});
