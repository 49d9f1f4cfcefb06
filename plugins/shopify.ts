import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "shopify",
  displayName: "Shopify Admin API",
  authType: "api_key",
  // A custom app's Admin API access token, on the store's own myshopify.com host.
  inject: [{ host: "*.myshopify.com", pathPrefix: "/admin", name: "X-Shopify-Access-Token", format: "{token}" }],
  apiKey: {
    pattern: "^shp(at|ca|pa)_[a-fA-F0-9]{32}$",
    hint: "Admin API access tokens start with \"shpat_\"",
    keyUrl: "https://help.shopify.com/en/manual/apps/app-types/custom-apps",
  },
  env: { SHOPIFY_ACCESS_TOKEN: "api_key", SHOPIFY_ADMIN_API_ACCESS_TOKEN: "api_key" },
  docsUrl: "https://shopify.dev/docs/api/usage/authentication#access-tokens-for-custom-apps-in-the-shopify-admin",
});
