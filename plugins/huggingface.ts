import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "huggingface",
  displayName: "Hugging Face",
  authType: "api_key",
  // The Hub (API, gated model and dataset downloads) and the inference router share the token.
  inject: [
    { host: "huggingface.co" },
    { host: "router.huggingface.co" },
    { host: "api-inference.huggingface.co" },
  ],
  apiKey: {
    pattern: "^hf_[A-Za-z0-9]{30,}$",
    hint: "Hugging Face access tokens start with \"hf_\"",
    keyUrl: "https://huggingface.co/settings/tokens",
  },
  // huggingface_hub reads HF_TOKEN, and HUGGING_FACE_HUB_TOKEN from older releases.
  env: { HF_TOKEN: "api_key", HUGGING_FACE_HUB_TOKEN: "api_key" },
  docsUrl: "https://huggingface.co/docs/hub/security-tokens",
});
