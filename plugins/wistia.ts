import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "wistia",
  displayName: "Wistia",
  authType: "api_key",
  // upload.wistia.com takes the same token for media uploads.
  inject: [{ host: "api.wistia.com" }, { host: "upload.wistia.com" }],
  apiKey: {
    hint: "create a token under Account > Settings > API Access",
    keyUrl: "https://account.wistia.com/account/api",
  },
  env: { WISTIA_API_KEY: "api_key" },
  docsUrl: "https://docs.wistia.com/reference/getting-started-with-the-data-api",
});
