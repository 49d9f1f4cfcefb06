import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "segment",
  displayName: "Segment (Public API)",
  authType: "api_key",
  // The Public API (workspace management); tracking calls take a source's write key instead.
  inject: [{ host: "api.segmentapis.com" }, { host: "eu1.api.segmentapis.com" }],
  apiKey: {
    hint: "create a Public API token under Settings > Workspace settings > Access management > Tokens",
    keyUrl: "https://app.segment.com/",
  },
  env: { SEGMENT_PUBLIC_API_TOKEN: "api_key", SEGMENT_API_TOKEN: "api_key" },
  docsUrl: "https://docs.segmentapis.com/tag/Getting-Started",
});
