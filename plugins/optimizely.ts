import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "optimizely",
  displayName: "Optimizely",
  authType: "api_key",
  inject: [{ host: "api.optimizely.com" }],
  apiKey: {
    hint: "create a personal access token under Profile > API Access",
    keyUrl: "https://app.optimizely.com/v2/profile/api",
  },
  env: { OPTIMIZELY_API_KEY: "api_key" },
  docsUrl: "https://docs.developers.optimizely.com/web-experimentation/docs/personal-token",
});
