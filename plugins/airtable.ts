import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "airtable",
  displayName: "Airtable",
  authType: "api_key",
  // Uploads to attachment fields go to content.airtable.com.
  inject: [{ host: "api.airtable.com" }, { host: "content.airtable.com" }],
  apiKey: {
    pattern: "^pat[A-Za-z0-9]{8,}\\.[A-Za-z0-9]{16,}$",
    hint: "Airtable personal access tokens look like \"patXXXXXXXXXXXXXX.XXXX...\"",
    keyUrl: "https://airtable.com/create/tokens",
  },
  env: { AIRTABLE_API_KEY: "api_key", AIRTABLE_TOKEN: "api_key" },
  docsUrl: "https://airtable.com/developers/web/api/authentication",
});
