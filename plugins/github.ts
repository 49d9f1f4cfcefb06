import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "github",
  displayName: "GitHub",
  authType: "oauth2",
  flows: ["pkce", "device_code"],
  oauth: {
    authorizationUrl: "https://github.com/login/oauth/authorize",
    tokenUrl: "https://github.com/login/oauth/access_token",
    // Device flow must be enabled in the OAuth app's settings.
    deviceAuthorizationUrl: "https://github.com/login/device/code",
    // No RFC 7009 endpoint: GitHub revokes grants with DELETE /applications/{client_id}/grant.
    scopes: ["repo", "read:org", "read:user"],
  },
  inject: [{ host: "api.github.com" }, { host: "uploads.github.com" }],
  // GITHUB_ACCESS_TOKEN: the Python authsome's name, kept so its scripts keep working.
  env: { GITHUB_TOKEN: "access_token", GH_TOKEN: "access_token", GITHUB_ACCESS_TOKEN: "access_token" },
  docsUrl: "https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps",
});
