import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "hubspot",
  displayName: "HubSpot",
  authType: "oauth2",
  oauth: {
    authorizationUrl: "https://app.hubspot.com/oauth/authorize",
    tokenUrl: "https://api.hubapi.com/oauth/v1/token",
    // HubSpot reads the client secret from the form body and does not document PKCE.
    clientAuth: "client_secret_post",
    pkce: false,
    scopes: ["oauth", "crm.objects.contacts.read", "crm.objects.companies.read"],
  },
  inject: [{ host: "api.hubapi.com" }],
  env: { HUBSPOT_ACCESS_TOKEN: "access_token" },
  docsUrl: "https://developers.hubspot.com/docs/api/oauth-quickstart-guide",
});
