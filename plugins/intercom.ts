import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "intercom",
  displayName: "Intercom",
  authType: "api_key",
  // Workspaces hosted in the EU or Australia use their regional API host.
  inject: [{ host: "api.intercom.io" }, { host: "api.eu.intercom.io" }, { host: "api.au.intercom.io" }],
  apiKey: {
    hint: "copy the access token of your app in the Developer Hub (Configure > Authentication)",
    keyUrl: "https://app.intercom.com/a/apps/_/developer-hub",
  },
  env: { INTERCOM_API_KEY: "api_key", INTERCOM_ACCESS_TOKEN: "api_key" },
  docsUrl: "https://developers.intercom.com/docs/build-an-integration/learn-more/authentication",
});
