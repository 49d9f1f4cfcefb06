import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "beehiiv",
  displayName: "beehiiv",
  authType: "api_key",
  inject: [{ host: "api.beehiiv.com" }],
  apiKey: {
    hint: "create a key under Settings > Workspace Settings > API",
    keyUrl: "https://app.beehiiv.com/settings/workspace/api",
  },
  env: { BEEHIIV_API_KEY: "api_key" },
  docsUrl: "https://developers.beehiiv.com/docs/v2/authentication",
});
