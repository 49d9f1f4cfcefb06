import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "asana",
  displayName: "Asana",
  authType: "api_key",
  // A personal access token; the API lives under app.asana.com/api.
  inject: [{ host: "app.asana.com", pathPrefix: "/api" }],
  apiKey: {
    hint: "create a personal access token in the developer console",
    keyUrl: "https://app.asana.com/0/my-apps",
  },
  env: { ASANA_ACCESS_TOKEN: "api_key" },
  docsUrl: "https://developers.asana.com/docs/personal-access-token",
});
