import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "mixpanel",
  displayName: "Mixpanel",
  authType: "api_key",
  // A service account is HTTP Basic `username:secret`, entered as that one pair.
  inject: [
    { host: "mixpanel.com", pathPrefix: "/api", in: "basic", format: "{token}" },
    { host: "eu.mixpanel.com", pathPrefix: "/api", in: "basic", format: "{token}" },
    { host: "data.mixpanel.com", in: "basic", format: "{token}" },
    { host: "data-eu.mixpanel.com", in: "basic", format: "{token}" },
    { host: "api.mixpanel.com", in: "basic", format: "{token}" },
    { host: "api-eu.mixpanel.com", in: "basic", format: "{token}" },
  ],
  apiKey: {
    hint: "enter a service account as USERNAME:SECRET (Organization settings > Service accounts)",
    keyUrl: "https://mixpanel.com/settings/org#serviceaccounts",
  },
  env: { MIXPANEL_BASIC_AUTH: "api_key" },
  docsUrl: "https://developer.mixpanel.com/reference/service-accounts",
});
