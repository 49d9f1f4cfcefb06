import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "gitlab",
  displayName: "GitLab",
  authType: "oauth2",
  flows: ["pkce", "device_code"],
  // Self-managed instances: `authsome login gitlab --base-url https://gitlab.example.com`
  // (requests to such a host need a copy of this plugin with that host in `inject`).
  baseUrl: "https://gitlab.com",
  oauth: {
    authorizationUrl: "{base_url}/oauth/authorize",
    tokenUrl: "{base_url}/oauth/token",
    revocationUrl: "{base_url}/oauth/revoke",
    // GitLab 17.2 and later.
    deviceAuthorizationUrl: "{base_url}/oauth/authorize_device",
    scopes: ["api", "read_user"],
  },
  inject: [{ host: "gitlab.com", pathPrefix: "/api" }],
  // GITLAB_ACCESS_TOKEN: the Python authsome's name, kept as an alias.
  env: { GITLAB_TOKEN: "access_token", GITLAB_OAUTH_TOKEN: "access_token", GITLAB_ACCESS_TOKEN: "access_token" },
  docsUrl: "https://docs.gitlab.com/api/oauth2/",
});
