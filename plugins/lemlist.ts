import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "lemlist",
  displayName: "lemlist",
  authType: "api_key",
  // HTTP Basic with an empty user name and the key as password (`curl --user ":KEY"`).
  inject: [{ host: "api.lemlist.com", in: "basic", format: ":{token}" }],
  apiKey: {
    hint: "copy the key from Settings > Integrations > API",
    keyUrl: "https://app.lemlist.com/settings/integrations",
  },
  env: { LEMLIST_API_KEY: "api_key" },
  docsUrl: "https://developer.lemlist.com/#authentication",
});
