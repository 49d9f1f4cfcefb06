import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "klaviyo",
  displayName: "Klaviyo",
  authType: "api_key",
  inject: [{ host: "a.klaviyo.com", format: "Klaviyo-API-Key {token}" }],
  apiKey: {
    pattern: "^pk_[A-Za-z0-9_]{20,}$",
    hint: "use a private API key (\"pk_\"); the public key is a 6-character site id",
    keyUrl: "https://www.klaviyo.com/settings/account/api-keys",
  },
  env: { KLAVIYO_API_KEY: "api_key" },
  docsUrl: "https://developers.klaviyo.com/en/docs/authenticate_",
});
