import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "browserbase",
  displayName: "Browserbase",
  authType: "api_key",
  inject: [
    { host: "api.browserbase.com", name: "X-BB-API-Key", format: "{token}" },
    // The CDP WebSocket takes the key as the `apiKey` query parameter.
    { host: "connect.browserbase.com", in: "query", name: "apiKey" },
  ],
  apiKey: {
    hint: "copy the API key from the dashboard's Settings page (\"bb_live_...\")",
    keyUrl: "https://www.browserbase.com/settings",
  },
  env: { BROWSERBASE_API_KEY: "api_key" },
  docsUrl: "https://docs.browserbase.com/reference/introduction",
});
