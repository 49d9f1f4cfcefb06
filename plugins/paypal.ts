import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "paypal",
  displayName: "PayPal",
  authType: "oauth2",
  // App-to-PayPal calls use the client-credentials grant. Sandbox:
  // `--base-url https://api-m.sandbox.paypal.com`.
  flows: ["client_credentials"],
  baseUrl: "https://api-m.paypal.com",
  oauth: { tokenUrl: "{base_url}/v1/oauth2/token" },
  inject: [{ host: "api-m.paypal.com" }, { host: "api-m.sandbox.paypal.com" }],
  env: { PAYPAL_ACCESS_TOKEN: "access_token" },
  docsUrl: "https://developer.paypal.com/api/rest/authentication/",
});
