import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "grafana",
  displayName: "Grafana Cloud",
  authType: "api_key",
  // A service-account token of a Grafana Cloud stack (<stack>.grafana.net). A self-hosted
  // Grafana needs a copy of this plugin naming its host.
  inject: [{ host: "*.grafana.net", pathPrefix: "/api" }],
  apiKey: {
    pattern: "^glsa_[A-Za-z0-9_]{20,}$",
    hint: "service account tokens start with \"glsa_\"",
    keyUrl: "https://grafana.com/docs/grafana/latest/administration/service-accounts/",
  },
  // The Grafana MCP server reads GRAFANA_SERVICE_ACCOUNT_TOKEN (formerly GRAFANA_API_KEY).
  env: { GRAFANA_SERVICE_ACCOUNT_TOKEN: "api_key", GRAFANA_API_KEY: "api_key" },
  docsUrl: "https://grafana.com/docs/grafana/latest/developers/http_api/authentication/",
});
