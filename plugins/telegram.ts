import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "telegram",
  displayName: "Telegram Bot API",
  authType: "api_key",
  // The bot token goes in the URL path (`/bot<token>/getMe`, files `/file/bot<token>/<path>`):
  // under `authsome run` the placeholder in that segment becomes the token (docs/plugins.md).
  inject: [{ host: "api.telegram.org", in: "path", name: "bot" }],
  apiKey: {
    pattern: "^[0-9]{6,12}:[A-Za-z0-9_-]{30,60}$",
    hint: "Telegram bot tokens are the bot's numeric id, \":\" and about 35 letters, digits, \"-\" or \"_\"",
    keyUrl: "https://t.me/BotFather",
  },
  env: { TELEGRAM_BOT_TOKEN: "api_key" },
  docsUrl: "https://core.telegram.org/bots/api#authorizing-your-bot",
});
