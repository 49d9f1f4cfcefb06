import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "render",
  displayName: "Render",
  authType: "api_key",
  inject: [{ host: "api.render.com" }],
  apiKey: {
    pattern: "^rnd_[A-Za-z0-9]{20,}$",
    hint: "Render API keys start with \"rnd_\"",
    keyUrl: "https://dashboard.render.com/u/settings#api-keys",
  },
  env: { RENDER_API_KEY: "api_key" },
  docsUrl: "https://api-docs.render.com/reference/authentication",
});
