import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "buffer",
  displayName: "Buffer",
  authType: "api_key",
  // api.buffer.com is Buffer's current (GraphQL) API; api.bufferapp.com the legacy REST one.
  inject: [{ host: "api.buffer.com" }, { host: "api.bufferapp.com" }],
  apiKey: {
    hint: "create a key under Settings > API",
    keyUrl: "https://publish.buffer.com/settings/api",
  },
  env: { BUFFER_API_KEY: "api_key" },
  docsUrl: "https://developers.buffer.com/",
});
