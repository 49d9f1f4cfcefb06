import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "square",
  displayName: "Square",
  authType: "api_key",
  inject: [{ host: "connect.squareup.com" }, { host: "connect.squareupsandbox.com" }],
  apiKey: {
    pattern: "^EAAA[A-Za-z0-9_-]{20,}$",
    hint: "Square access tokens start with \"EAAA\"",
    keyUrl: "https://developer.squareup.com/apps",
  },
  env: { SQUARE_ACCESS_TOKEN: "api_key" },
  docsUrl: "https://developer.squareup.com/docs/build-basics/access-tokens",
});
