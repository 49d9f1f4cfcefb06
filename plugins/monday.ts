import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "monday",
  displayName: "monday.com",
  authType: "api_key",
  // The bare token in Authorization (no "Bearer").
  inject: [{ host: "api.monday.com", format: "{token}" }],
  apiKey: {
    hint: "copy your personal API token from the Developer center (My access tokens)",
    keyUrl: "https://auth.monday.com/developers",
  },
  env: { MONDAY_API_TOKEN: "api_key", MONDAY_TOKEN: "api_key" },
  docsUrl: "https://developer.monday.com/api-reference/docs/authentication",
});
