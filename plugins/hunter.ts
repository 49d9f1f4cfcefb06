import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "hunter",
  displayName: "Hunter",
  authType: "api_key",
  inject: [{ host: "api.hunter.io", in: "query", name: "api_key" }],
  apiKey: {
    hint: "copy the key from Hunter's API page",
    keyUrl: "https://hunter.io/api-keys",
  },
  env: { HUNTER_API_KEY: "api_key" },
  docsUrl: "https://hunter.io/api-documentation/v2#authentication",
});
