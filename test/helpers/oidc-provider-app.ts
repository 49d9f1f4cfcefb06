/**
 * A real OAuth 2.0 / OpenID Connect authorization server for the flow tests: the `oidc-provider`
 * package on 127.0.0.1 (random port) with its development login and consent pages, the device
 * flow, client credentials, open dynamic registration, revocation, introspection and rotating
 * refresh tokens. Test-only control routes under `/__test/` report what the server saw (token
 * requests per grant type, registrations, every request) and change the access-token lifetime.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import Provider from "oidc-provider";

/** Static clients the tests use. */
export const TEST_CLIENTS = {
  /** Public native app: PKCE, refresh, device flow. */
  public: "cli-public",
  /** Confidential app with a secret (client_secret_basic). */
  confidential: "cli-confidential",
  confidentialSecret: "cli-confidential-secret-0123456789",
  /** Public device client whose device codes expire after 2 s. */
  expiring: "device-expiring",
  /** Machine client (client_credentials, client_secret_post). */
  machine: "machine",
  machineSecret: "machine-secret-0123456789abcdef",
  /** Resource server allowed to introspect. */
  resourceServer: "rs",
  resourceServerSecret: "rs-secret-0123456789",
} as const;

const DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";

/** What the server saw since start (or the last reset). */
export interface OidcStats {
  /** Token-endpoint requests by grant_type, failed ones included. */
  tokenRequests: Record<string, number>;
  registrations: number;
  revocations: number;
  /** Every request except the control routes. */
  requests: number;
}

/** Mutable server settings. */
export interface OidcSettings {
  accessTokenTtl: number;
  deviceInterval: number;
}

function _clients() {
  const loopback = { application_type: "native", redirect_uris: ["http://127.0.0.1/callback"], response_types: ["code"] };
  return [
    { ...loopback, client_id: TEST_CLIENTS.public, token_endpoint_auth_method: "none", grant_types: ["authorization_code", "refresh_token", DEVICE_GRANT] },
    { ...loopback, client_id: TEST_CLIENTS.confidential, client_secret: TEST_CLIENTS.confidentialSecret, token_endpoint_auth_method: "client_secret_basic", grant_types: ["authorization_code", "refresh_token", DEVICE_GRANT] },
    { ...loopback, client_id: TEST_CLIENTS.expiring, token_endpoint_auth_method: "none", grant_types: [DEVICE_GRANT] },
    { client_id: TEST_CLIENTS.machine, client_secret: TEST_CLIENTS.machineSecret, token_endpoint_auth_method: "client_secret_post", grant_types: ["client_credentials"], response_types: [], redirect_uris: [], scope: "api:read" },
    { client_id: TEST_CLIENTS.resourceServer, client_secret: TEST_CLIENTS.resourceServerSecret, grant_types: [], response_types: [], redirect_uris: [] },
  ];
}

// oidc-provider prints development-mode notices on every start and first use; they are noise here.
for (const level of ["info", "warn"] as const) {
  const original = console[level].bind(console);
  console[level] = (...args: unknown[]) => {
    if (typeof args[0] !== "string" || !args[0].startsWith("oidc-provider ")) original(...args);
  };
}

/** Starts the server; resolves once it listens. */
export async function startOidcApp(initial: Partial<OidcSettings> = {}): Promise<{ issuer: string; close(): Promise<void> }> {
  const settings: OidcSettings = { accessTokenTtl: 3600, deviceInterval: 1, ...initial };
  const stats: OidcStats = { tokenRequests: {}, registrations: 0, revocations: 0, requests: 0 };
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const provider = new Provider(issuer, {
    clients: _clients(),
    features: {
      devInteractions: { enabled: true },
      deviceFlow: { enabled: true },
      clientCredentials: { enabled: true },
      registration: { enabled: true },
      revocation: { enabled: true },
      introspection: { enabled: true },
    },
    scopes: ["openid", "offline_access", "api:read"],
    rotateRefreshToken: true,
    // Refresh tokens for every client allowed the grant (the default also wants offline_access + consent prompt).
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed("refresh_token"),
    ttl: {
      AccessToken: () => settings.accessTokenTtl,
      ClientCredentials: () => settings.accessTokenTtl,
      DeviceCode: (_ctx, _token, client) => (client.clientId === TEST_CLIENTS.expiring ? 2 : 600),
      RefreshToken: 3600,
      Grant: 3600,
      Interaction: 600,
      Session: 600,
      AuthorizationCode: 60,
    },
    cookies: { keys: ["authsome-test-cookie-key"] },
  });
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.path === "/token") {
      const grant = String(ctx.oidc?.params?.["grant_type"] ?? "unknown");
      stats.tokenRequests[grant] = (stats.tokenRequests[grant] ?? 0) + 1;
    }
    if (ctx.path === "/reg" && ctx.method === "POST" && ctx.status === 201) stats.registrations += 1;
    if (ctx.path === "/token/revocation") stats.revocations += 1;
    // oidc-provider omits `interval` (clients then wait 5 s); the tests poll every second.
    if (ctx.path === "/device/auth" && ctx.status === 200 && typeof ctx.body === "object" && ctx.body !== null) ctx.body = { ...ctx.body, interval: settings.deviceInterval };
  });
  const handle = provider.callback();
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    if (req.url?.startsWith("/__test/")) return _control(req, res, stats, settings);
    stats.requests += 1;
    return handle(req, res);
  });
  return {
    issuer,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

function _control(req: IncomingMessage, res: ServerResponse, stats: OidcStats, settings: OidcSettings): void {
  let raw = "";
  req.on("data", (chunk: Buffer) => (raw += chunk.toString()));
  req.on("end", () => {
    if (req.url === "/__test/settings" && req.method === "POST") Object.assign(settings, JSON.parse(raw || "{}") as Partial<OidcSettings>);
    if (req.url === "/__test/reset" && req.method === "POST") Object.assign(stats, { tokenRequests: {}, registrations: 0, revocations: 0, requests: 0 });
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ stats, settings }));
  });
}
