import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "twilio",
  displayName: "Twilio",
  authType: "api_key",
  // HTTP Basic `AccountSid:AuthToken` (or `ApiKeySid:Secret`), entered as that one pair. The
  // account SID also appears in request paths, so the agent keeps its real TWILIO_ACCOUNT_SID.
  inject: [{ host: "*.twilio.com", in: "basic", format: "{token}" }],
  apiKey: {
    pattern: "^(AC|SK)[0-9a-f]{32}:[A-Za-z0-9]{32}$",
    hint: "enter ACCOUNT_SID:AUTH_TOKEN (or API_KEY_SID:API_KEY_SECRET)",
    keyUrl: "https://console.twilio.com/",
  },
  env: { TWILIO_BASIC_AUTH: "api_key" },
  docsUrl: "https://www.twilio.com/docs/usage/requests-to-twilio",
});
