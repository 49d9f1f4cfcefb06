import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "mention-me",
  displayName: "Mention Me",
  authType: "api_key",
  inject: [{ host: "mention-me.com" }],
  apiKey: { hint: "use the API token your Mention Me account manager issued" },
  env: { MENTIONME_API_KEY: "api_key" },
  docsUrl: "https://mention-me.com/help/apis",
});
