import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "docker-hub",
  displayName: "Docker Hub",
  authType: "api_key",
  // Registry clients fetch pull/push tokens from auth.docker.io with Basic `user:token`; the
  // key is entered as that pair. Hub's own API (hub.docker.com) needs a token exchange first.
  inject: [{ host: "auth.docker.io", in: "basic", format: "{token}" }],
  apiKey: {
    hint: "enter your Docker ID and a personal access token as USERNAME:TOKEN",
    keyUrl: "https://app.docker.com/settings/personal-access-tokens",
  },
  env: { DOCKERHUB_BASIC_AUTH: "api_key" },
  docsUrl: "https://docs.docker.com/registry/spec/auth/token/",
});
