import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "typeform",
  displayName: "Typeform",
  authType: "api_key",
  // Accounts in the EU data center use api.eu.typeform.com.
  inject: [{ host: "api.typeform.com" }, { host: "api.eu.typeform.com" }],
  apiKey: {
    pattern: "^tfp_[A-Za-z0-9_-]{20,}$",
    hint: "Typeform personal access tokens start with \"tfp_\"",
    keyUrl: "https://admin.typeform.com/user/tokens",
  },
  // TYPEFORM_API_KEY: the Python authsome's name, kept as an alias.
  env: { TYPEFORM_API_TOKEN: "api_key", TYPEFORM_API_KEY: "api_key" },
  docsUrl: "https://www.typeform.com/developers/get-started/personal-access-token/",
});
