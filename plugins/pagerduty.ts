import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "pagerduty",
  displayName: "PagerDuty",
  authType: "api_key",
  // REST API keys use PagerDuty's `Token token=` scheme.
  inject: [
    { host: "api.pagerduty.com", format: "Token token={token}" },
    { host: "api.eu.pagerduty.com", format: "Token token={token}" },
  ],
  apiKey: {
    hint: "create a REST API key under Integrations > API Access Keys",
    keyUrl: "https://support.pagerduty.com/main/docs/api-access-keys",
  },
  // The Terraform provider reads PAGERDUTY_TOKEN.
  env: { PAGERDUTY_TOKEN: "api_key", PAGERDUTY_API_TOKEN: "api_key" },
  docsUrl: "https://developer.pagerduty.com/docs/authentication",
});
