import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "jira",
  displayName: "Jira and Confluence Cloud (API token)",
  authType: "api_key",
  // Atlassian API tokens are HTTP Basic `email:token` on the site's own host. The key is
  // entered as that pair; OAuth through api.atlassian.com is the `atlassian` provider.
  inject: [{ host: "*.atlassian.net", in: "basic", format: "{token}" }],
  apiKey: {
    hint: "enter your Atlassian account email and an API token as EMAIL:TOKEN",
    keyUrl: "https://id.atlassian.com/manage-profile/security/api-tokens",
  },
  // The pair as `curl --user` takes it.
  env: { JIRA_BASIC_AUTH: "api_key" },
  docsUrl: "https://developer.atlassian.com/cloud/jira/platform/basic-auth-for-rest-apis/",
});
