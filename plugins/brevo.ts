import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "brevo",
  displayName: "Brevo",
  authType: "api_key",
  // api.sendinblue.com is Brevo's former host and still serves the v3 API.
  inject: [
    { host: "api.brevo.com", name: "api-key", format: "{token}" },
    { host: "api.sendinblue.com", name: "api-key", format: "{token}" },
  ],
  apiKey: {
    pattern: "^xkeysib-[A-Za-z0-9-]{20,}$",
    hint: "Brevo API keys start with \"xkeysib-\" (SMTP keys, \"xsmtpsib-\", are not API keys)",
    keyUrl: "https://app.brevo.com/settings/keys/api",
  },
  env: { BREVO_API_KEY: "api_key" },
  docsUrl: "https://developers.brevo.com/docs/getting-started",
});
