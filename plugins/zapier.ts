import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "zapier",
  displayName: "Zapier",
  authType: "api_key",
  inject: [{ host: "api.zapier.com" }],
  apiKey: { hint: "use an access token of your Zapier developer integration" },
  env: { ZAPIER_API_KEY: "api_key" },
  docsUrl: "https://docs.zapier.com/powered-by-zapier/api-reference/authentication",
});
