import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "deepseek",
  displayName: "DeepSeek",
  authType: "api_key",
  inject: [{ host: "api.deepseek.com" }],
  apiKey: {
    pattern: "^sk-[A-Za-z0-9]{20,}$",
    hint: "DeepSeek API keys start with \"sk-\"",
    keyUrl: "https://platform.deepseek.com/api_keys",
  },
  env: { DEEPSEEK_API_KEY: "api_key" },
  docsUrl: "https://api-docs.deepseek.com/",
});
