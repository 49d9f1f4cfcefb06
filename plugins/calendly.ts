import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "calendly",
  displayName: "Calendly",
  authType: "api_key",
  inject: [{ host: "api.calendly.com" }],
  apiKey: {
    hint: "create a personal access token under Integrations > API & Webhooks",
    keyUrl: "https://calendly.com/integrations/api_webhooks",
  },
  env: { CALENDLY_API_KEY: "api_key", CALENDLY_ACCESS_TOKEN: "api_key" },
  docsUrl: "https://developer.calendly.com/how-to-authenticate-with-personal-access-tokens",
});
