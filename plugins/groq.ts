import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "groq",
  displayName: "Groq",
  authType: "api_key",
  inject: [{ host: "api.groq.com" }],
  apiKey: {
    pattern: "^gsk_[A-Za-z0-9]{20,}$",
    hint: "Groq API keys start with \"gsk_\"",
    keyUrl: "https://console.groq.com/keys",
  },
  env: { GROQ_API_KEY: "api_key" },
  docsUrl: "https://console.groq.com/docs/api-reference",
});
