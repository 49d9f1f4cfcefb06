import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "digitalocean",
  displayName: "DigitalOcean",
  authType: "api_key",
  inject: [{ host: "api.digitalocean.com" }],
  apiKey: {
    pattern: "^dop_v1_[0-9a-f]{64}$",
    hint: "DigitalOcean personal access tokens start with \"dop_v1_\"",
    keyUrl: "https://cloud.digitalocean.com/account/api/tokens",
  },
  // doctl reads DIGITALOCEAN_ACCESS_TOKEN; the Terraform provider DIGITALOCEAN_TOKEN.
  env: { DIGITALOCEAN_ACCESS_TOKEN: "api_key", DIGITALOCEAN_TOKEN: "api_key" },
  docsUrl: "https://docs.digitalocean.com/reference/api/",
});
