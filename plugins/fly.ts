import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "fly",
  displayName: "Fly.io",
  authType: "api_key",
  // The Machines API (api.machines.dev) and the GraphQL API (api.fly.io) both take Bearer.
  inject: [{ host: "api.machines.dev" }, { host: "api.fly.io" }],
  apiKey: {
    hint: "use `fly auth token`, or a token from `fly tokens create` without its leading \"FlyV1 \"",
    keyUrl: "https://fly.io/dashboard/personal/tokens",
  },
  // flyctl reads FLY_API_TOKEN, older releases FLY_ACCESS_TOKEN.
  env: { FLY_API_TOKEN: "api_key", FLY_ACCESS_TOKEN: "api_key" },
  docsUrl: "https://fly.io/docs/machines/api/working-with-machines-api/",
});
