import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "neon",
  displayName: "Neon",
  authType: "api_key",
  inject: [{ host: "console.neon.tech", pathPrefix: "/api" }],
  apiKey: {
    hint: "create a key under Account settings > API keys",
    keyUrl: "https://console.neon.tech/app/settings/api-keys",
  },
  // neonctl reads NEON_API_KEY.
  env: { NEON_API_KEY: "api_key" },
  docsUrl: "https://api-docs.neon.tech/reference/authentication",
});
