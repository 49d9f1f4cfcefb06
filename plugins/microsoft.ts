import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "microsoft",
  displayName: "Microsoft (Entra ID)",
  authType: "oauth2",
  flows: ["pkce", "device_code"],
  // The tenant is part of the URL: `--base-url https://login.microsoftonline.com/<tenant-id>`
  // (or `organizations`, `consumers`); `common` accepts work and personal accounts.
  baseUrl: "https://login.microsoftonline.com/common",
  oauth: {
    authorizationUrl: "{base_url}/oauth2/v2.0/authorize",
    tokenUrl: "{base_url}/oauth2/v2.0/token",
    deviceAuthorizationUrl: "{base_url}/oauth2/v2.0/devicecode",
    // No RFC 7009 endpoint; sessions are revoked in the account portal or with Graph.
    scopes: ["offline_access", "User.Read", "Mail.Read", "Files.Read"],
  },
  inject: [{ host: "graph.microsoft.com" }],
  env: { MICROSOFT_ACCESS_TOKEN: "access_token", MSGRAPH_ACCESS_TOKEN: "access_token" },
  docsUrl: "https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-auth-code-flow",
});
