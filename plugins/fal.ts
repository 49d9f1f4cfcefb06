import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "fal",
  displayName: "fal.ai",
  authType: "api_key",
  // fal's own scheme: `Authorization: Key <key>`; models run on fal.run and queue.fal.run.
  inject: [
    { host: "fal.run", format: "Key {token}" },
    { host: "*.fal.run", format: "Key {token}" },
    { host: "*.fal.ai", format: "Key {token}" },
  ],
  apiKey: {
    hint: "create a key in the fal dashboard under Keys (it contains a colon)",
    keyUrl: "https://fal.ai/dashboard/keys",
  },
  env: { FAL_KEY: "api_key" },
  docsUrl: "https://docs.fal.ai/model-apis/authentication",
});
