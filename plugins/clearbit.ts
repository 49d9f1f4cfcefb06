import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "clearbit",
  displayName: "Clearbit",
  authType: "api_key",
  // Each Clearbit API has its own host (person., company., prospector., risk.clearbit.com).
  inject: [{ host: "*.clearbit.com" }],
  apiKey: {
    pattern: "^sk_[A-Za-z0-9]{20,}$",
    hint: "use the secret key (\"sk_\"), not the publishable one (\"pk_\")",
    keyUrl: "https://dashboard.clearbit.com/api",
  },
  env: { CLEARBIT_API_KEY: "api_key" },
  docsUrl: "https://dashboard.clearbit.com/docs#authentication",
});
