import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "freshdesk",
  displayName: "Freshdesk",
  authType: "api_key",
  // HTTP Basic with the key as user name and any password ("X" in Freshdesk's examples).
  inject: [{ host: "*.freshdesk.com", pathPrefix: "/api", in: "basic", format: "{token}:X" }],
  apiKey: {
    hint: "copy the key from Profile settings > View API key",
    keyUrl: "https://support.freshdesk.com/support/solutions/articles/215517",
  },
  env: { FRESHDESK_API_KEY: "api_key" },
  docsUrl: "https://developers.freshdesk.com/api/#authentication",
});
