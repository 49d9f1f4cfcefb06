import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "mailgun",
  displayName: "Mailgun",
  authType: "api_key",
  // HTTP Basic with the user name "api" and the key as password; EU domains use api.eu.
  inject: [
    { host: "api.mailgun.net", in: "basic", format: "api:{token}" },
    { host: "api.eu.mailgun.net", in: "basic", format: "api:{token}" },
  ],
  apiKey: {
    hint: "use a private API key (Send > Sending > Domain settings, or API Security)",
    keyUrl: "https://app.mailgun.com/settings/api_security",
  },
  env: { MAILGUN_API_KEY: "api_key" },
  docsUrl: "https://documentation.mailgun.com/docs/mailgun/api-reference/authentication",
});
