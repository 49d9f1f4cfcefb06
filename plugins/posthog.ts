import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "posthog",
  displayName: "PostHog",
  authType: "api_key",
  // A personal API key for the private API; event capture uses the public project key instead.
  inject: [
    { host: "us.posthog.com", pathPrefix: "/api" },
    { host: "eu.posthog.com", pathPrefix: "/api" },
    { host: "app.posthog.com", pathPrefix: "/api" },
  ],
  apiKey: {
    pattern: "^phx_[A-Za-z0-9]{20,}$",
    hint: "personal API keys start with \"phx_\" (project keys, \"phc_\", are public)",
    keyUrl: "https://us.posthog.com/settings/user-api-keys",
  },
  env: { POSTHOG_PERSONAL_API_KEY: "api_key", POSTHOG_API_KEY: "api_key" },
  docsUrl: "https://posthog.com/docs/api",
});
