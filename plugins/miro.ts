import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "miro",
  displayName: "Miro",
  authType: "oauth2",
  oauth: {
    authorizationUrl: "https://miro.com/oauth/authorize",
    tokenUrl: "https://api.miro.com/v1/oauth/token",
    // Miro reads the client secret from the request; its revoke endpoint is not RFC 7009.
    clientAuth: "client_secret_post",
    scopes: ["boards:read", "boards:write"],
  },
  inject: [{ host: "api.miro.com" }],
  env: { MIRO_ACCESS_TOKEN: "access_token" },
  docsUrl: "https://developers.miro.com/docs/getting-started-with-oauth",
});
