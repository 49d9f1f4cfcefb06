import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "google-cloud",
  displayName: "Google Cloud",
  authType: "oauth2",
  // Google's OAuth endpoints with the cloud-platform scope (the device flow does not allow it).
  oauth: {
    authorizationUrl: "https://accounts.google.com/o/oauth2/v2/auth",
    tokenUrl: "https://oauth2.googleapis.com/token",
    revocationUrl: "https://oauth2.googleapis.com/revoke",
    scopes: ["openid", "email", "https://www.googleapis.com/auth/cloud-platform"],
    authorizationParams: { access_type: "offline", prompt: "consent" },
  },
  inject: [{ host: "*.googleapis.com" }],
  // gcloud reads CLOUDSDK_AUTH_ACCESS_TOKEN (GOOGLE_OAUTH_ACCESS_TOKEN, Terraform's, is `google`'s).
  env: { CLOUDSDK_AUTH_ACCESS_TOKEN: "access_token", GOOGLE_CLOUD_ACCESS_TOKEN: "access_token" },
  docsUrl: "https://cloud.google.com/docs/authentication/rest",
});
