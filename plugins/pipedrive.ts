import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "pipedrive",
  displayName: "Pipedrive",
  authType: "api_key",
  // The `x-api-token` header keeps the token out of URLs (`?api_token=` also works).
  inject: [
    { host: "api.pipedrive.com", name: "x-api-token", format: "{token}" },
    { host: "*.pipedrive.com", pathPrefix: "/api", name: "x-api-token", format: "{token}" },
  ],
  apiKey: {
    pattern: "^[0-9a-f]{40}$",
    hint: "a Pipedrive API token is 40 hexadecimal characters (Personal preferences > API)",
    keyUrl: "https://app.pipedrive.com/settings/api",
  },
  env: { PIPEDRIVE_API_TOKEN: "api_key" },
  docsUrl: "https://pipedrive.readme.io/docs/core-api-concepts-authentication",
});
