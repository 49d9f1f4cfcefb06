import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "figma",
  displayName: "Figma",
  authType: "api_key",
  // Personal access tokens use X-Figma-Token; OAuth tokens would use Bearer.
  inject: [{ host: "api.figma.com", name: "X-Figma-Token", format: "{token}" }],
  apiKey: {
    pattern: "^figd_[A-Za-z0-9_-]{20,}$",
    hint: "Figma personal access tokens start with \"figd_\"",
    keyUrl: "https://www.figma.com/settings",
  },
  // FIGMA_API_KEY: what the common Figma MCP servers read.
  env: { FIGMA_ACCESS_TOKEN: "api_key", FIGMA_API_KEY: "api_key" },
  docsUrl: "https://www.figma.com/developers/api#authentication",
});
