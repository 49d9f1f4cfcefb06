import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "mailchimp",
  displayName: "Mailchimp",
  authType: "api_key",
  // The API lives on a per-account data-center host (us21.api.mailchimp.com); HTTP basic auth
  // with any user name and the key as password.
  inject: [{ host: "*.api.mailchimp.com", in: "basic", format: "authsome:{token}" }],
  apiKey: {
    pattern: "^[0-9a-f]{32}-us[0-9]{1,2}$",
    hint: "Mailchimp API keys end with the data center, e.g. \"-us21\"",
    keyUrl: "https://admin.mailchimp.com/account/api/",
  },
  env: { MAILCHIMP_API_KEY: "api_key" },
  docsUrl: "https://mailchimp.com/developer/marketing/docs/fundamentals/#authentication",
});
