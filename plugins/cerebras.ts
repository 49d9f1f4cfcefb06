import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "cerebras",
  displayName: "Cerebras Inference",
  authType: "api_key",
  inject: [{ host: "api.cerebras.ai" }],
  apiKey: {
    pattern: "^csk-[A-Za-z0-9]{20,}$",
    hint: "Cerebras API keys start with \"csk-\"",
    keyUrl: "https://cloud.cerebras.ai/",
  },
  env: { CEREBRAS_API_KEY: "api_key" },
  docsUrl: "https://inference-docs.cerebras.ai/api-reference/chat-completions",
});
