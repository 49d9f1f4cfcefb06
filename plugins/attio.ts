import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "attio",
  displayName: "Attio",
  authType: "api_key",
  inject: [{ host: "api.attio.com" }],
  apiKey: {
    hint: "create an access token under Workspace settings > Developers",
    keyUrl: "https://app.attio.com/",
  },
  env: { ATTIO_API_KEY: "api_key" },
  docsUrl: "https://docs.attio.com/rest-api/guides/authentication",
});
