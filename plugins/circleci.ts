import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "circleci",
  displayName: "CircleCI",
  authType: "api_key",
  inject: [{ host: "circleci.com", pathPrefix: "/api", name: "Circle-Token", format: "{token}" }],
  apiKey: {
    hint: "create a personal API token under User Settings > Personal API Tokens",
    keyUrl: "https://app.circleci.com/settings/user/tokens",
  },
  // The circleci CLI reads CIRCLECI_CLI_TOKEN.
  env: { CIRCLECI_TOKEN: "api_key", CIRCLECI_CLI_TOKEN: "api_key" },
  docsUrl: "https://circleci.com/docs/api/v2/#section/Authentication",
});
