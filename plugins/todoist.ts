import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "todoist",
  displayName: "Todoist",
  authType: "api_key",
  inject: [{ host: "api.todoist.com" }],
  apiKey: {
    pattern: "^[0-9a-f]{40}$",
    hint: "a Todoist API token is 40 hexadecimal characters (Settings > Integrations > Developer)",
    keyUrl: "https://app.todoist.com/app/settings/integrations/developer",
  },
  env: { TODOIST_API_TOKEN: "api_key" },
  docsUrl: "https://developer.todoist.com/rest/v2/#authorization",
});
