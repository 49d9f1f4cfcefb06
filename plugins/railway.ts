import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "railway",
  displayName: "Railway",
  authType: "api_key",
  // The public GraphQL API; railway.app is the former domain, still served.
  inject: [
    { host: "backboard.railway.com", pathPrefix: "/graphql" },
    { host: "backboard.railway.app", pathPrefix: "/graphql" },
  ],
  apiKey: {
    hint: "create an account or team token under Account Settings > Tokens",
    keyUrl: "https://railway.com/account/tokens",
  },
  // The Railway CLI reads RAILWAY_API_TOKEN for account and team tokens.
  env: { RAILWAY_API_TOKEN: "api_key" },
  docsUrl: "https://docs.railway.com/reference/public-api",
});
