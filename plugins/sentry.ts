import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "sentry",
  displayName: "Sentry",
  authType: "api_key",
  // sentry.io and its US and EU regions; event ingestion uses DSNs, not this token.
  inject: [
    { host: "sentry.io", pathPrefix: "/api" },
    { host: "us.sentry.io", pathPrefix: "/api" },
    { host: "de.sentry.io", pathPrefix: "/api" },
  ],
  apiKey: {
    hint: "create an organization or personal auth token (\"sntrys_\" / \"sntryu_\")",
    keyUrl: "https://sentry.io/settings/account/api/auth-tokens/",
  },
  // sentry-cli reads SENTRY_AUTH_TOKEN.
  env: { SENTRY_AUTH_TOKEN: "api_key" },
  docsUrl: "https://docs.sentry.io/api/auth/",
});
