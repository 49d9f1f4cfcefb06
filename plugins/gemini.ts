import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "gemini",
  displayName: "Google Gemini API",
  authType: "api_key",
  // Google's API-key header; the key can also go in `?key=`, which puts it in URLs and logs.
  inject: [{ host: "generativelanguage.googleapis.com", name: "x-goog-api-key", format: "{token}" }],
  apiKey: {
    pattern: "^AIza[0-9A-Za-z_-]{35}$",
    hint: "Gemini API keys start with \"AIza\" and are 39 characters long",
    keyUrl: "https://aistudio.google.com/app/apikey",
  },
  // The Google GenAI SDKs read GEMINI_API_KEY, then GOOGLE_API_KEY.
  env: { GEMINI_API_KEY: "api_key", GOOGLE_API_KEY: "api_key" },
  docsUrl: "https://ai.google.dev/gemini-api/docs/api-key",
});
