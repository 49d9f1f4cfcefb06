import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "g2",
  displayName: "G2",
  authType: "api_key",
  // G2 documents data.g2.com with `Token token=...`; api.g2.com and `Token {token}` are the
  // Python file's, kept so a script written for it still works.
  inject: [
    { host: "data.g2.com", format: "Token token={token}" },
    { host: "api.g2.com", format: "Token {token}" },
  ],
  apiKey: {
    hint: "create an API token under your G2 profile > Integrations > API Tokens",
    keyUrl: "https://my.g2.com/",
  },
  env: { G2_API_TOKEN: "api_key" },
  docsUrl: "https://data.g2.com/api/docs",
});
