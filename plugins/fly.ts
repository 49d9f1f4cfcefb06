import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "fly",
  displayName: "Fly.io",
  authType: "api_key",
  // Fly's macaroon tokens use the `FlyV1` scheme; the key is stored without that word.
  inject: [
    { host: "api.machines.dev", format: "FlyV1 {token}" },
    { host: "api.fly.io", format: "FlyV1 {token}" },
  ],
  apiKey: {
    hint: "paste the token from `fly tokens create` without its leading \"FlyV1 \" (it starts with \"fm2_\")",
    keyUrl: "https://fly.io/dashboard/personal/tokens",
  },
  // flyctl reads FLY_API_TOKEN, older releases FLY_ACCESS_TOKEN.
  env: { FLY_API_TOKEN: "api_key", FLY_ACCESS_TOKEN: "api_key" },
  docsUrl: "https://fly.io/docs/machines/api/working-with-machines-api/",
});
