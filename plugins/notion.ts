import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "notion",
  displayName: "Notion",
  authType: "oauth2",
  oauth: {
    authorizationUrl: "https://api.notion.com/v1/oauth/authorize",
    tokenUrl: "https://api.notion.com/v1/oauth/token",
    // Notion has no scopes (access is chosen page by page on its consent screen) and no PKCE.
    pkce: false,
    authorizationParams: { owner: "user" },
  },
  // Requests also need a `Notion-Version` header, which the agent's SDK sends.
  inject: [{ host: "api.notion.com" }],
  // NOTION_ACCESS_TOKEN: the Python authsome's name, kept as an alias.
  env: { NOTION_TOKEN: "access_token", NOTION_API_KEY: "access_token", NOTION_ACCESS_TOKEN: "access_token" },
  docsUrl: "https://developers.notion.com/docs/authorization",
});
