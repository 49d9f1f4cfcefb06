import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "supabase",
  displayName: "Supabase (Management API)",
  authType: "api_key",
  // The Management API; a project's own API (<ref>.supabase.co) takes its anon or service key.
  inject: [{ host: "api.supabase.com" }],
  apiKey: {
    pattern: "^sbp_[A-Za-z0-9]{20,}$",
    hint: "Supabase personal access tokens start with \"sbp_\"",
    keyUrl: "https://supabase.com/dashboard/account/tokens",
  },
  // The Supabase CLI reads SUPABASE_ACCESS_TOKEN.
  env: { SUPABASE_ACCESS_TOKEN: "api_key" },
  docsUrl: "https://supabase.com/docs/reference/api/introduction",
});
