import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "slack",
  displayName: "Slack",
  authType: "oauth2",
  oauth: {
    authorizationUrl: "https://slack.com/oauth/v2/authorize",
    tokenUrl: "https://slack.com/api/oauth.v2.access",
    // auth.revoke takes the token itself as its credential, like RFC 7009's `token` field.
    revocationUrl: "https://slack.com/api/auth.revoke",
    pkce: false,
    // Bot scopes (`scope`): the access token is a bot token (xoxb-).
    scopes: ["channels:read", "chat:write"],
    scopeSeparator: ",",
  },
  inject: [{ host: "slack.com", pathPrefix: "/api" }],
  env: { SLACK_ACCESS_TOKEN: "access_token", SLACK_BOT_TOKEN: "access_token" },
  docsUrl: "https://docs.slack.dev/authentication/installing-with-oauth",
});
