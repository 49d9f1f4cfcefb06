import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "sendgrid",
  displayName: "SendGrid",
  authType: "api_key",
  inject: [{ host: "api.sendgrid.com" }],
  apiKey: {
    pattern: "^SG\\.[A-Za-z0-9_-]{16,}\\.[A-Za-z0-9_-]{16,}$",
    hint: "SendGrid API keys look like \"SG.xxxx.yyyy\"",
    keyUrl: "https://app.sendgrid.com/settings/api_keys",
  },
  env: { SENDGRID_API_KEY: "api_key" },
  docsUrl: "https://www.twilio.com/docs/sendgrid/api-reference/how-to-use-the-sendgrid-v3-api/authentication",
});
