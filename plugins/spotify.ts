import { definePlugin } from "../src/core/plugin.ts";

export default definePlugin({
  name: "spotify",
  displayName: "Spotify",
  authType: "oauth2",
  oauth: {
    authorizationUrl: "https://accounts.spotify.com/authorize",
    tokenUrl: "https://accounts.spotify.com/api/token",
    // Spotify accepts loopback redirects only as 127.0.0.1 (not localhost), as authsome uses.
    scopes: ["user-read-private", "user-read-email", "playlist-read-private"],
  },
  inject: [{ host: "api.spotify.com" }],
  env: { SPOTIFY_ACCESS_TOKEN: "access_token" },
  docsUrl: "https://developer.spotify.com/documentation/web-api/tutorials/code-pkce-flow",
});
