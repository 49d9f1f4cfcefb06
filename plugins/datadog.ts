import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "datadog",
  displayName: "Datadog",
  authType: "api_key",
  // The API key only: endpoints that read data also need DD-APPLICATION-KEY, a second header
  // one credential cannot fill (docs/providers.md). Every Datadog site has its own domain.
  inject: [
    { host: "*.datadoghq.com", name: "DD-API-KEY", format: "{token}" },
    { host: "*.datadoghq.eu", name: "DD-API-KEY", format: "{token}" },
    { host: "*.ddog-gov.com", name: "DD-API-KEY", format: "{token}" },
  ],
  apiKey: {
    pattern: "^[0-9a-f]{32}$",
    hint: "a Datadog API key is 32 hexadecimal characters (an application key is 40)",
    keyUrl: "https://app.datadoghq.com/organization-settings/api-keys",
  },
  // The Datadog agent and libraries read DD_API_KEY.
  env: { DD_API_KEY: "api_key", DATADOG_API_KEY: "api_key" },
  docsUrl: "https://docs.datadoghq.com/api/latest/authentication/",
});
