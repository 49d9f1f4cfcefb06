import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "heroku",
  displayName: "Heroku",
  authType: "api_key",
  // Requests also need `Accept: application/vnd.heroku+json; version=3`, which clients send.
  inject: [{ host: "api.heroku.com" }],
  apiKey: {
    hint: "create an authorization under Account settings > Applications, or run `heroku authorizations:create`",
    keyUrl: "https://dashboard.heroku.com/account/applications",
  },
  // The Heroku CLI reads HEROKU_API_KEY.
  env: { HEROKU_API_KEY: "api_key" },
  docsUrl: "https://devcenter.heroku.com/articles/platform-api-quickstart#authentication",
});
