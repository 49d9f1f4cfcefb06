import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "hetzner",
  displayName: "Hetzner Cloud",
  authType: "api_key",
  inject: [{ host: "api.hetzner.cloud" }],
  apiKey: {
    pattern: "^[A-Za-z0-9]{64}$",
    hint: "a Hetzner Cloud API token is 64 letters and digits (project > Security > API tokens)",
    keyUrl: "https://console.hetzner.cloud/projects",
  },
  // The hcloud CLI and the Terraform provider read HCLOUD_TOKEN.
  env: { HCLOUD_TOKEN: "api_key" },
  docsUrl: "https://docs.hetzner.cloud/#authentication",
});
