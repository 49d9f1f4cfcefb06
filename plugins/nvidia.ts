import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "nvidia",
  displayName: "NVIDIA API Catalog (NIM)",
  authType: "api_key",
  inject: [{ host: "integrate.api.nvidia.com" }, { host: "ai.api.nvidia.com" }],
  apiKey: {
    pattern: "^nvapi-[A-Za-z0-9_-]{20,}$",
    hint: "NVIDIA API keys start with \"nvapi-\"",
    keyUrl: "https://build.nvidia.com/settings/api-keys",
  },
  env: { NVIDIA_API_KEY: "api_key" },
  docsUrl: "https://docs.api.nvidia.com/nim/reference/llm-apis",
});
