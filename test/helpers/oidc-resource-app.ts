/**
 * An authorization server for the generic flow tests of RFC 8707 / RFC 9207 / RFC 7591:
 * `oidc-provider` on 127.0.0.1 with resource indicators (one resource server whose scopes
 * `api:read api:write` are resource-server scopes, so a registration naming them is refused),
 * rotating refresh tokens with reuse detection (a consumed refresh token revokes the grant),
 * `iss` on authorization responses (advertised in its metadata), and open registration.
 * It records what every token and registration request carried; settings forge `iss` on the
 * authorization response and refuse `client_name` at registration.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import Provider from "oidc-provider";

/** The resource server tokens are issued for. */
export const RESOURCE = "https://api.resource.test/";
/** A static public client (PKCE, refresh). */
export const RESOURCE_CLIENT = "resource-public";

/** One token request as the server saw it. */
export interface SeenTokenRequest {
  grant: string;
  resource: string[];
  status: number;
}

/** What the server saw. */
export interface ResourceStats {
  tokens: SeenTokenRequest[];
  /** Registration attempts: the metadata members sent and the status answered. */
  registrations: { members: string[]; status: number }[];
}

/** Settings a test may change. */
export interface ResourceSettings {
  accessTokenTtl: number;
  forgeIss: boolean;
  refuseClientName: boolean;
}

/** A running server. */
export interface ResourceAuthServer {
  issuer: string;
  stats: ResourceStats;
  settings: ResourceSettings;
  /** The stored access token's audience and scopes (a resource server's view), or null. */
  accessToken(token: string): Promise<{ audience?: string; scopes: string[] } | null>;
  /** Whether a refresh token is still usable (not consumed, not revoked, not expired). */
  refreshTokenActive(token: string): Promise<boolean>;
  close(): Promise<void>;
}

function _resourceList(value: unknown): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value.map(String) : [String(value)];
}

/** Starts the server; resolves once it listens. */
export async function startResourceAuth(): Promise<ResourceAuthServer> {
  const stats: ResourceStats = { tokens: [], registrations: [] };
  const settings: ResourceSettings = { accessTokenTtl: 3600, forgeIss: false, refuseClientName: false };
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const provider = new Provider(issuer, {
    clients: [{ client_id: RESOURCE_CLIENT, application_type: "native", token_endpoint_auth_method: "none", redirect_uris: ["http://127.0.0.1/callback"], response_types: ["code"], grant_types: ["authorization_code", "refresh_token"] }],
    features: {
      devInteractions: { enabled: true },
      registration: { enabled: true },
      revocation: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: async () => undefined,
        // Only what the request names: a token request without `resource` gets no resource token.
        useGrantedResource: async () => false,
        getResourceServerInfo: async (_ctx: unknown, resource: string) => {
          if (resource !== RESOURCE) throw new Error(`unknown resource ${resource}`);
          return { scope: "api:read api:write", audience: resource, accessTokenTTL: settings.accessTokenTtl, accessTokenFormat: "opaque" };
        },
      },
    },
    scopes: ["openid", "offline_access"],
    rotateRefreshToken: true,
    issueRefreshToken: async (_ctx: unknown, client: { grantTypeAllowed(g: string): boolean }) => client.grantTypeAllowed("refresh_token"),
    ttl: { AccessToken: () => settings.accessTokenTtl, RefreshToken: 3600, Grant: 3600, Interaction: 600, Session: 600, AuthorizationCode: 60 },
    cookies: { keys: ["authsome-resource-test-cookie-key"] },
  } as never);
  provider.use(async (context, next) => {
    // The types file (oidc-provider-types.d.ts) has no `response`; the koa context has it.
    const ctx = context as typeof context & { response: { get(name: string): string | undefined; set(name: string, value: string): void } };
    await next();
    const params = ctx.oidc?.params ?? {};
    if (ctx.path === "/token") stats.tokens.push({ grant: String(params["grant_type"] ?? "unknown"), resource: _resourceList(params["resource"]), status: ctx.status });
    if (ctx.path === "/reg" && ctx.method === "POST") {
      const body = (ctx.oidc as { body?: Record<string, unknown> } | undefined)?.body ?? {};
      // Refused after the fact (the route parsed the body): what a strict server answers.
      if (settings.refuseClientName && ctx.status === 201 && body["client_name"] !== undefined) {
        ctx.status = 400;
        ctx.body = { error: "invalid_client_metadata", error_description: "client_name is not accepted here" };
      }
      stats.registrations.push({ members: Object.keys(body).sort(), status: ctx.status });
    }
    // A mix-up attack's shape (RFC 9207 2.4): the response names another issuer.
    const location = ctx.response.get("location") ?? "";
    if (settings.forgeIss && location.includes("code=")) ctx.response.set("location", location.replace(/([?&]iss=)[^&]*/, `$1${encodeURIComponent("https://evil.example")}`));
  });
  const handle = provider.callback();
  server.on("request", (req: IncomingMessage, res: ServerResponse) => handle(req, res));
  const models = provider as unknown as {
    AccessToken: { find(token: string): Promise<{ aud?: unknown; scope?: string; isExpired: boolean } | undefined> };
    RefreshToken: { find(token: string): Promise<{ consumed?: unknown; isExpired: boolean } | undefined> };
  };
  return {
    issuer,
    stats,
    settings,
    async accessToken(token) {
      const found = await models.AccessToken.find(token);
      if (found === undefined || found.isExpired) return null;
      return { scopes: String(found.scope ?? "").split(" ").filter(Boolean), ...(typeof found.aud === "string" ? { audience: found.aud } : {}) };
    },
    async refreshTokenActive(token) {
      const found = await models.RefreshToken.find(token);
      return found !== undefined && !found.isExpired && !found.consumed;
    },
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
