import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "openai",
  displayName: "OpenAI",
  authType: "api_key",
  inject: [{ host: "api.openai.com", name: "Authorization", format: "Bearer {token}" }],
  // Project (sk-proj-), service-account (sk-svcacct-), admin (sk-admin-) and legacy keys.
  apiKey: {
    pattern: "^sk-[A-Za-z0-9_-]{20,}$",
    hint: "OpenAI API keys are \"sk-\" and 20 or more letters, digits, \"-\" or \"_\"",
    keyUrl: "https://platform.openai.com/api-keys",
  },
  env: { OPENAI_API_KEY: "api_key" },
  docsUrl: "https://platform.openai.com/docs/api-reference/authentication",
});
