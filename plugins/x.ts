import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "x",
  displayName: "X (Twitter)",
  authType: "oauth2",
  oauth: {
    authorizationUrl: "https://twitter.com/i/oauth2/authorize",
    tokenUrl: "https://api.twitter.com/2/oauth2/token",
    revocationUrl: "https://api.twitter.com/2/oauth2/revoke",
    // offline.access is what makes X issue a refresh token.
    scopes: ["tweet.read", "tweet.write", "users.read", "offline.access"],
  },
  // api.x.com is the current name of the same API.
  inject: [{ host: "api.x.com" }, { host: "api.twitter.com" }],
  env: { X_ACCESS_TOKEN: "access_token" },
  docsUrl: "https://docs.x.com/resources/fundamentals/authentication/oauth-2-0/authorization-code",
});
