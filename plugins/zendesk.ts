import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "zendesk",
  displayName: "Zendesk",
  authType: "oauth2",
  // Every account has its own host: `authsome login zendesk --base-url https://SUBDOMAIN.zendesk.com`.
  oauth: {
    authorizationUrl: "{base_url}/oauth/authorizations/new",
    tokenUrl: "{base_url}/oauth/tokens",
    // Zendesk reads the client secret from the body; tokens are revoked with the API, not RFC 7009.
    clientAuth: "client_secret_post",
    scopes: ["read", "write"],
  },
  inject: [{ host: "*.zendesk.com", pathPrefix: "/api/v2" }],
  env: { ZENDESK_ACCESS_TOKEN: "access_token" },
  docsUrl: "https://developer.zendesk.com/documentation/ticketing/working-with-oauth/creating-and-using-oauth-tokens-with-the-api/",
});
