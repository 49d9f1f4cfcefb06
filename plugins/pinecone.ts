import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "pinecone",
  displayName: "Pinecone",
  authType: "api_key",
  // The control plane is api.pinecone.io; each index has its own host under svc.*.pinecone.io.
  inject: [{ host: "*.pinecone.io", name: "Api-Key", format: "{token}" }],
  apiKey: {
    hint: "create a key in the Pinecone console under API Keys (current keys start with \"pcsk_\")",
    keyUrl: "https://app.pinecone.io/",
  },
  env: { PINECONE_API_KEY: "api_key" },
  docsUrl: "https://docs.pinecone.io/reference/api/authentication",
});
