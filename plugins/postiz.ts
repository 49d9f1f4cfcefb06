import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "postiz",
  displayName: "Postiz",
  authType: "oauth2",
  // The device flow of Postiz's CLI, as the Python authsome bundles it.
  flows: ["device_code"],
  oauth: {
    authorizationUrl: "https://platform.postiz.com/oauth/authorize",
    tokenUrl: "https://cli-auth.postiz.com/device/token",
    deviceAuthorizationUrl: "https://cli-auth.postiz.com/device/code",
    // Postiz's CLI protocol: no OAuth client, each poll a JSON {"device_code"} (Python: device_token_request).
    deviceTokenRequest: "json",
  },
  inject: [{ host: "api.postiz.com" }],
  env: { POSTIZ_ACCESS_TOKEN: "access_token" },
  docsUrl: "https://docs.postiz.com/public-api",
});
