import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "deepgram",
  displayName: "Deepgram",
  authType: "api_key",
  // API keys use the `Token` scheme; Bearer is for short-lived tokens minted from a key.
  inject: [{ host: "api.deepgram.com", format: "Token {token}" }],
  apiKey: {
    hint: "create a key in the Deepgram console under API Keys",
    keyUrl: "https://console.deepgram.com/",
  },
  env: { DEEPGRAM_API_KEY: "api_key" },
  docsUrl: "https://developers.deepgram.com/reference/authentication",
});
