import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "discord",
  displayName: "Discord",
  authType: "oauth2",
  oauth: {
    authorizationUrl: "https://discord.com/oauth2/authorize",
    tokenUrl: "https://discord.com/api/oauth2/token",
    revocationUrl: "https://discord.com/api/oauth2/token/revoke",
    scopes: ["identify", "email", "guilds"],
  },
  // Bot tokens use `Bot {token}`; these are user OAuth tokens.
  inject: [{ host: "discord.com", pathPrefix: "/api" }],
  env: { DISCORD_ACCESS_TOKEN: "access_token" },
  docsUrl: "https://discord.com/developers/docs/topics/oauth2",
});
