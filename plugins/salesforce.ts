import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "salesforce",
  displayName: "Salesforce",
  authType: "oauth2",
  // Sandboxes: `--base-url https://test.salesforce.com`, or the org's My Domain URL.
  baseUrl: "https://login.salesforce.com",
  oauth: {
    authorizationUrl: "{base_url}/services/oauth2/authorize",
    tokenUrl: "{base_url}/services/oauth2/token",
    revocationUrl: "{base_url}/services/oauth2/revoke",
    clientAuth: "client_secret_post",
    scopes: ["api", "refresh_token"],
  },
  // REST calls go to the org's instance (<my-domain>.my.salesforce.com).
  inject: [{ host: "*.my.salesforce.com", pathPrefix: "/services" }],
  // The sf CLI reads SF_ACCESS_TOKEN.
  env: { SALESFORCE_ACCESS_TOKEN: "access_token", SF_ACCESS_TOKEN: "access_token" },
  docsUrl: "https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_web_server_flow.htm",
});
