import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "elevenlabs",
  displayName: "ElevenLabs",
  authType: "api_key",
  inject: [
    { host: "api.elevenlabs.io", name: "xi-api-key", format: "{token}" },
    { host: "api.us.elevenlabs.io", name: "xi-api-key", format: "{token}" },
  ],
  apiKey: {
    hint: "copy the key from Developers > API Keys",
    keyUrl: "https://elevenlabs.io/app/settings/api-keys",
  },
  env: { ELEVENLABS_API_KEY: "api_key" },
  docsUrl: "https://elevenlabs.io/docs/api-reference/authentication",
});
