import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "zoom",
  displayName: "Zoom",
  authType: "oauth2",
  oauth: {
    authorizationUrl: "https://zoom.us/oauth/authorize",
    tokenUrl: "https://zoom.us/oauth/token",
    revocationUrl: "https://zoom.us/oauth/revoke",
    // Scopes are chosen in the app's settings on the Zoom Marketplace, not requested here.
  },
  inject: [{ host: "api.zoom.us" }],
  env: { ZOOM_ACCESS_TOKEN: "access_token" },
  docsUrl: "https://developers.zoom.us/docs/integrations/oauth/",
});
