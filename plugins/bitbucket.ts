import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "bitbucket",
  displayName: "Bitbucket Cloud",
  authType: "oauth2",
  oauth: {
    authorizationUrl: "https://bitbucket.org/site/oauth2/authorize",
    tokenUrl: "https://bitbucket.org/site/oauth2/access_token",
    // Bitbucket documents no PKCE, and its scopes are chosen on the OAuth consumer, not here.
    pkce: false,
  },
  inject: [{ host: "api.bitbucket.org" }],
  env: { BITBUCKET_ACCESS_TOKEN: "access_token" },
  docsUrl: "https://developer.atlassian.com/cloud/bitbucket/oauth-2/",
});
