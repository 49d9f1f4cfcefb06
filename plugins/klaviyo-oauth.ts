import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "klaviyo-oauth",
  displayName: "Klaviyo (OAuth)",
  authType: "oauth2",
  oauth: {
    authorizationUrl: "https://www.klaviyo.com/oauth/authorize",
    tokenUrl: "https://a.klaviyo.com/oauth/token",
    revocationUrl: "https://a.klaviyo.com/oauth/revoke",
    scopes: ["accounts:read"],
  },
  inject: [{ host: "a.klaviyo.com" }],
  env: { KLAVIYO_OAUTH_ACCESS_TOKEN: "access_token" },
  docsUrl: "https://developers.klaviyo.com/en/docs/set_up_oauth",
});
