import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "langsmith",
  displayName: "LangSmith",
  authType: "api_key",
  inject: [
    { host: "api.smith.langchain.com", name: "x-api-key", format: "{token}" },
    { host: "eu.api.smith.langchain.com", name: "x-api-key", format: "{token}" },
  ],
  apiKey: {
    pattern: "^lsv2_[A-Za-z0-9_]{20,}$",
    hint: "LangSmith API keys start with \"lsv2_\"",
    keyUrl: "https://smith.langchain.com/settings",
  },
  // The LangSmith SDK reads LANGSMITH_API_KEY, older releases LANGCHAIN_API_KEY.
  env: { LANGSMITH_API_KEY: "api_key", LANGCHAIN_API_KEY: "api_key" },
  docsUrl: "https://docs.smith.langchain.com/administration/how_to_guides/organization_management/create_account_api_key",
});
