import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "ashby",
  displayName: "Ashby",
  authType: "api_key",
  // HTTP Basic with the key as user name and an empty password (the Python file sent the key
  // itself after "Basic", which Ashby refuses).
  inject: [{ host: "api.ashbyhq.com", in: "basic", format: "{token}:" }],
  apiKey: {
    hint: "create a key under Admin > Integrations > API Keys",
    keyUrl: "https://app.ashbyhq.com/admin/api/keys",
  },
  env: { ASHBY_API_KEY: "api_key" },
  docsUrl: "https://developers.ashbyhq.com/docs/authentication",
});
