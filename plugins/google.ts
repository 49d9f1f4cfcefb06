import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "google",
  displayName: "Google",
  authType: "oauth2",
  flows: ["pkce", "device_code"],
  oauth: {
    authorizationUrl: "https://accounts.google.com/o/oauth2/v2/auth",
    tokenUrl: "https://oauth2.googleapis.com/token",
    revocationUrl: "https://oauth2.googleapis.com/revoke",
    // Needs a "TVs and Limited Input devices" client, and allows only a few scopes.
    deviceAuthorizationUrl: "https://oauth2.googleapis.com/device/code",
    scopes: ["openid", "email", "https://www.googleapis.com/auth/userinfo.profile"],
    // Google issues a refresh token only for offline access, and again only with a consent prompt.
    authorizationParams: { access_type: "offline", prompt: "consent" },
  },
  inject: [{ host: "*.googleapis.com" }],
  env: { GOOGLE_ACCESS_TOKEN: "access_token", GOOGLE_OAUTH_ACCESS_TOKEN: "access_token" },
  docsUrl: "https://developers.google.com/identity/protocols/oauth2/native-app",
});
