import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "savvycal",
  displayName: "SavvyCal",
  authType: "api_key",
  inject: [{ host: "api.savvycal.com" }],
  apiKey: {
    hint: "create a personal access token under Settings > Developer",
    keyUrl: "https://savvycal.com/integrations",
  },
  env: { SAVVYCAL_API_KEY: "api_key" },
  docsUrl: "https://developers.savvycal.com/authentication",
});
