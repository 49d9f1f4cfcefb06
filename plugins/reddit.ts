import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "reddit",
  displayName: "Reddit",
  authType: "oauth2",
  oauth: {
    authorizationUrl: "https://www.reddit.com/api/v1/authorize",
    tokenUrl: "https://www.reddit.com/api/v1/access_token",
    revocationUrl: "https://www.reddit.com/api/v1/revoke_token",
    // Reddit documents no PKCE; `duration=permanent` is what gets a refresh token.
    pkce: false,
    scopes: ["identity", "read"],
    authorizationParams: { duration: "permanent" },
  },
  // Authenticated API calls go to oauth.reddit.com, not www.reddit.com.
  inject: [{ host: "oauth.reddit.com" }],
  env: { REDDIT_ACCESS_TOKEN: "access_token" },
  docsUrl: "https://github.com/reddit-archive/reddit/wiki/OAuth2",
});
