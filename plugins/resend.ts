import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "resend",
  displayName: "Resend",
  authType: "api_key",
  inject: [{ host: "api.resend.com" }],
  apiKey: {
    pattern: "^re_[A-Za-z0-9_]{8,}$",
    hint: "Resend API keys start with \"re_\"",
    keyUrl: "https://resend.com/api-keys",
  },
  env: { RESEND_API_KEY: "api_key" },
  docsUrl: "https://resend.com/docs/api-reference/introduction",
});
