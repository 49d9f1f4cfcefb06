import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "netlify",
  displayName: "Netlify",
  authType: "api_key",
  inject: [{ host: "api.netlify.com" }],
  apiKey: {
    hint: "create a personal access token under User settings > Applications",
    keyUrl: "https://app.netlify.com/user/applications#personal-access-tokens",
  },
  // The Netlify CLI reads NETLIFY_AUTH_TOKEN.
  env: { NETLIFY_AUTH_TOKEN: "api_key" },
  docsUrl: "https://docs.netlify.com/api/get-started/#authentication",
});
