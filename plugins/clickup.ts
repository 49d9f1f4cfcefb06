import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "clickup",
  displayName: "ClickUp",
  authType: "api_key",
  // Personal tokens go bare in Authorization (no "Bearer").
  inject: [{ host: "api.clickup.com", format: "{token}" }],
  apiKey: {
    pattern: "^pk_[A-Za-z0-9_]{20,}$",
    hint: "ClickUp personal API tokens start with \"pk_\"",
    keyUrl: "https://app.clickup.com/settings/apps",
  },
  env: { CLICKUP_API_TOKEN: "api_key", CLICKUP_API_KEY: "api_key" },
  docsUrl: "https://developer.clickup.com/docs/authentication",
});
