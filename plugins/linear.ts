import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "linear",
  displayName: "Linear",
  authType: "oauth2",
  oauth: {
    authorizationUrl: "https://linear.app/oauth/authorize",
    tokenUrl: "https://api.linear.app/oauth/token",
    revocationUrl: "https://api.linear.app/oauth/revoke",
    // Linear reads the client secret from the form body.
    clientAuth: "client_secret_post",
    scopes: ["read", "write"],
    scopeSeparator: ",",
  },
  inject: [{ host: "api.linear.app" }],
  env: { LINEAR_ACCESS_TOKEN: "access_token" },
  docsUrl: "https://linear.app/developers/oauth-2-0-authentication",
});
