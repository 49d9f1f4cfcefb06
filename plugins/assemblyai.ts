import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "assemblyai",
  displayName: "AssemblyAI",
  authType: "api_key",
  // The bare key in Authorization (no scheme); EU data residency uses api.eu.assemblyai.com.
  inject: [
    { host: "api.assemblyai.com", format: "{token}" },
    { host: "api.eu.assemblyai.com", format: "{token}" },
    { host: "streaming.assemblyai.com", format: "{token}" },
  ],
  apiKey: {
    pattern: "^[0-9a-f]{32}$",
    hint: "an AssemblyAI API key is 32 hexadecimal characters",
    keyUrl: "https://www.assemblyai.com/app/api-keys",
  },
  env: { ASSEMBLYAI_API_KEY: "api_key" },
  docsUrl: "https://www.assemblyai.com/docs/api-reference/overview#authorization",
});
