import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "box",
  displayName: "Box",
  authType: "oauth2",
  oauth: {
    authorizationUrl: "https://account.box.com/api/oauth2/authorize",
    tokenUrl: "https://api.box.com/oauth2/token",
    revocationUrl: "https://api.box.com/oauth2/revoke",
    // Box reads client credentials from the form body; scopes are set in the app's configuration.
    clientAuth: "client_secret_post",
    pkce: false,
  },
  inject: [{ host: "api.box.com" }, { host: "upload.box.com" }],
  env: { BOX_ACCESS_TOKEN: "access_token" },
  docsUrl: "https://developer.box.com/guides/authentication/oauth2/",
});
