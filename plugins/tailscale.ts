import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "tailscale",
  displayName: "Tailscale",
  authType: "api_key",
  inject: [{ host: "api.tailscale.com" }],
  apiKey: {
    pattern: "^tskey-api-[A-Za-z0-9-]{10,}$",
    hint: "Tailscale API access tokens start with \"tskey-api-\" (auth keys, \"tskey-auth-\", are not API tokens)",
    keyUrl: "https://login.tailscale.com/admin/settings/keys",
  },
  // The Terraform provider reads TAILSCALE_API_KEY.
  env: { TAILSCALE_API_KEY: "api_key" },
  docsUrl: "https://tailscale.com/kb/1101/api",
});
