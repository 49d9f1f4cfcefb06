import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "npm",
  displayName: "npm registry",
  authType: "api_key",
  inject: [{ host: "registry.npmjs.org" }],
  apiKey: {
    pattern: "^npm_[A-Za-z0-9]{36}$",
    hint: "npm access tokens start with \"npm_\"",
    keyUrl: "https://www.npmjs.com/settings/~/tokens",
  },
  // Read by an .npmrc line `//registry.npmjs.org/:_authToken=${NPM_TOKEN}`; setup-node uses NODE_AUTH_TOKEN.
  env: { NPM_TOKEN: "api_key", NODE_AUTH_TOKEN: "api_key" },
  docsUrl: "https://docs.npmjs.com/about-access-tokens",
});
