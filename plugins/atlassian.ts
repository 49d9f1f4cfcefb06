import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "atlassian",
  displayName: "Atlassian (Jira, Confluence)",
  authType: "oauth2",
  oauth: {
    authorizationUrl: "https://auth.atlassian.com/authorize",
    tokenUrl: "https://auth.atlassian.com/oauth/token",
    // Atlassian's 3LO: client secret in the body, no PKCE, `audience` required.
    clientAuth: "client_secret_post",
    pkce: false,
    scopes: ["read:jira-work", "read:jira-user", "read:confluence-content.all", "offline_access"],
    authorizationParams: { audience: "api.atlassian.com", prompt: "consent" },
  },
  // Cloud APIs are called as https://api.atlassian.com/ex/jira/{cloudid}/...
  inject: [{ host: "api.atlassian.com" }],
  env: { ATLASSIAN_ACCESS_TOKEN: "access_token" },
  docsUrl: "https://developer.atlassian.com/cloud/jira/platform/oauth-2-3lo-apps/",
});
