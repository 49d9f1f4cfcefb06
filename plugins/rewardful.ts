import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "rewardful",
  displayName: "Rewardful",
  authType: "api_key",
  // HTTP Basic with the API secret as user name and no password (`curl -u SECRET:`).
  inject: [{ host: "api.getrewardful.com", in: "basic", format: "{token}:" }],
  apiKey: {
    hint: "copy the API secret from Company settings",
    keyUrl: "https://app.getrewardful.com/company/edit",
  },
  env: { REWARDFUL_API_KEY: "api_key" },
  docsUrl: "https://developers.rewardful.com/rest-api-reference/authentication",
});
