import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "discord-bot",
  displayName: "Discord (bot token)",
  authType: "api_key",
  // Bot tokens use Discord's `Bot` scheme; user OAuth tokens are the `discord` provider.
  inject: [{ host: "discord.com", pathPrefix: "/api", format: "Bot {token}" }],
  apiKey: {
    hint: "copy the bot token from your application's Bot page",
    keyUrl: "https://discord.com/developers/applications",
  },
  env: { DISCORD_BOT_TOKEN: "api_key", DISCORD_TOKEN: "api_key" },
  docsUrl: "https://discord.com/developers/docs/reference#authentication",
});
