import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "hunter",
  displayName: "Hunter",
  authType: "api_key",
  // Hunter takes the key as `api_key`, `X-API-KEY` or Bearer: a header keeps it out of URLs.
  inject: [{ host: "api.hunter.io" }],
  apiKey: {
    hint: "copy the key from Hunter's API page",
    keyUrl: "https://hunter.io/api-keys",
  },
  env: { HUNTER_API_KEY: "api_key" },
  docsUrl: "https://hunter.io/api-documentation/v2#authentication",
});
