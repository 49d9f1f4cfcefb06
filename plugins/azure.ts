import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "azure",
  displayName: "Azure Resource Manager",
  authType: "oauth2",
  flows: ["pkce", "device_code"],
  // Entra ID with the ARM audience; tenant via `--base-url https://login.microsoftonline.com/<tenant>`.
  baseUrl: "https://login.microsoftonline.com/organizations",
  oauth: {
    authorizationUrl: "{base_url}/oauth2/v2.0/authorize",
    tokenUrl: "{base_url}/oauth2/v2.0/token",
    deviceAuthorizationUrl: "{base_url}/oauth2/v2.0/devicecode",
    scopes: ["https://management.azure.com/user_impersonation", "offline_access"],
  },
  inject: [{ host: "management.azure.com" }],
  env: { AZURE_ACCESS_TOKEN: "access_token" },
  docsUrl: "https://learn.microsoft.com/en-us/rest/api/azure/#authenticate-with-microsoft-entra-id",
});
