import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "dropbox",
  displayName: "Dropbox",
  authType: "oauth2",
  oauth: {
    authorizationUrl: "https://www.dropbox.com/oauth2/authorize",
    tokenUrl: "https://api.dropboxapi.com/oauth2/token",
    // Dropbox revokes with POST /2/auth/token/revoke and a bearer token, not RFC 7009.
    scopes: ["account_info.read", "files.metadata.read", "files.content.read"],
    // Short-lived access tokens come with a refresh token only for offline access.
    authorizationParams: { token_access_type: "offline" },
  },
  inject: [{ host: "api.dropboxapi.com" }, { host: "content.dropboxapi.com" }],
  env: { DROPBOX_ACCESS_TOKEN: "access_token" },
  docsUrl: "https://developers.dropbox.com/oauth-guide",
});
