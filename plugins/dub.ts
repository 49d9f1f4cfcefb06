import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "dub",
  displayName: "Dub",
  authType: "api_key",
  inject: [{ host: "api.dub.co" }],
  apiKey: {
    pattern: "^dub_[A-Za-z0-9]{16,}$",
    hint: "Dub API keys start with \"dub_\"",
    keyUrl: "https://app.dub.co/settings/tokens",
  },
  env: { DUB_API_KEY: "api_key" },
  docsUrl: "https://dub.co/docs/api-reference/tokens",
});
