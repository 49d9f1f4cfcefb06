import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "trello",
  displayName: "Trello",
  authType: "api_key",
  // Two values, the app's API key and a user token, entered as one `KEY:TOKEN` and sent as the
  // header Trello builds from both (its docs also take `?key=&token=`; a run's placeholder in
  // those query parameters is dropped, so the header is what Trello reads).
  inject: [{ host: "api.trello.com", name: "Authorization", format: "OAuth oauth_consumer_key=\"{token.0}\", oauth_token=\"{token.1}\"" }],
  apiKey: {
    pattern: "^[0-9a-f]{32}:[A-Za-z0-9]{64,80}$",
    hint: "enter API_KEY:TOKEN (the key is 32 hex characters; the token 64 hex, or ATTA and more)",
    keyUrl: "https://trello.com/power-ups/admin",
  },
  env: { TRELLO_API_KEY: "api_key", TRELLO_TOKEN: "api_key" },
  docsUrl: "https://developer.atlassian.com/cloud/trello/guides/rest-api/authorization/",
});
