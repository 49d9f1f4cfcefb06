import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "stripe",
  displayName: "Stripe",
  authType: "api_key",
  // Basic auth with the key as user name and no password (Stripe also accepts Bearer).
  inject: [
    { host: "api.stripe.com", in: "basic", format: "{token}:" },
    { host: "files.stripe.com", in: "basic", format: "{token}:" },
  ],
  apiKey: {
    pattern: "^(sk|rk)_(test|live)_[A-Za-z0-9]{10,}$",
    hint: "use a secret (sk_) or restricted (rk_) key, not a publishable (pk_) one",
    keyUrl: "https://dashboard.stripe.com/apikeys",
  },
  env: { STRIPE_API_KEY: "api_key", STRIPE_SECRET_KEY: "api_key" },
  docsUrl: "https://docs.stripe.com/api/authentication",
});
