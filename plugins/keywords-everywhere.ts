import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "keywords-everywhere",
  displayName: "Keywords Everywhere",
  authType: "api_key",
  inject: [{ host: "api.keywordseverywhere.com" }],
  apiKey: {
    hint: "copy the key from your Keywords Everywhere account page",
    keyUrl: "https://keywordseverywhere.com/first-install-addon.html",
  },
  env: { KEYWORDS_EVERYWHERE_API_KEY: "api_key" },
  docsUrl: "https://api.keywordseverywhere.com/docs/",
});
