import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "postmark",
  displayName: "Postmark",
  authType: "api_key",
  // A Server API token (sending, templates, bounces); the Account token uses another header.
  inject: [{ host: "api.postmarkapp.com", name: "X-Postmark-Server-Token", format: "{token}" }],
  apiKey: {
    pattern: "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
    hint: "a Postmark Server API token is a UUID (server > API Tokens)",
    keyUrl: "https://account.postmarkapp.com/servers",
  },
  // POSTMARK_API_KEY: the Python authsome's name, kept as an alias.
  env: { POSTMARK_SERVER_TOKEN: "api_key", POSTMARK_API_KEY: "api_key" },
  docsUrl: "https://postmarkapp.com/developer/api/overview#authentication",
});
