/**
 * The authorization server of the MCP tests: `oidc-provider` on 127.0.0.1 with resource
 * indicators (RFC 8707: tokens carry the MCP resource as audience, resource-server scopes
 * `mcp:read` and `mcp:admin`), rotating refresh tokens with reuse detection (a consumed refresh
 * token revokes the grant), open dynamic registration, and, when asked, Client ID Metadata
 * Documents (its `fetch` serves authsome's documents, standing in for their https host).
 * Control: what it saw (token requests per grant, requests without `resource`, registrations,
 * reused refresh tokens), the token lifetime, refusing `client_name` at registration, a
 * forged `iss` on the authorization response.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import Provider from "oidc-provider";
import { clientMetadataDocument, DEFAULT_CLIENT_METADATA_URL } from "../../src/mcp/client-identity.ts";

/** The members of oidc-provider's access-token model the resource server side reads. */
interface AccessTokenModel {
  clientId: unknown;
  scope?: unknown;
  exp: unknown;
  aud?: unknown;
  isExpired: boolean;
  destroy(): Promise<void>;
}

/** A public client registered by hand (the `--client-id` path). */
export const PREREGISTERED_CLIENT = "mcp-preregistered";

/** What the server saw. */
export interface McpAuthStats {
  tokenRequests: Record<string, number>;
  /** Token requests that carried no `resource` parameter. */
  withoutResource: number;
  registrations: number;
  registrationAttempts: number;
  /** Client metadata documents fetched. */
  documents: number;
  /** Refresh tokens presented after they were already used (the grant is then revoked). */
  reusedRefreshTokens: number;
}

/** Settings a test may change while the server runs. */
export interface McpAuthSettings {
  accessTokenTtl: number;
  refuseClientName: boolean;
  forgeIss: boolean;
}

/** A running authorization server. */
export interface McpAuthServer {
  issuer: string;
  stats: McpAuthStats;
  settings: McpAuthSettings;
  /** Resource servers' view of an opaque token (same process: the provider's own store). */
  verify(token: string): Promise<{ clientId: string; scopes: string[]; expiresAt: number; resource?: string } | null>;
  /** Revokes one access token (the resource server then answers 401 for it). */
  revoke(token: string): Promise<void>;
  close(): Promise<void>;
}

/** Options for {@link startMcpAuth}. */
export interface McpAuthOptions {
  /** Resources tokens may be issued for (the MCP servers' resource identifiers). */
  resources: () => string[];
  cimd?: boolean;
  registration?: boolean;
  /** Extra client metadata documents, by URL. */
  documents?: Record<string, Record<string, unknown>>;
}

function _documentFetch(documents: Map<string, Record<string, unknown>>, stats: McpAuthStats) {
  return async (url: string | URL, init?: RequestInit): Promise<Response> => {
    const doc = documents.get(String(url));
    if (doc === undefined) return fetch(url, init);
    stats.documents += 1;
    return new Response(JSON.stringify(doc), { status: 200, headers: { "content-type": "application/json", "cache-control": "max-age=30" } });
  };
}

/** Starts the server. */
export async function startMcpAuth(options: McpAuthOptions): Promise<McpAuthServer> {
  const stats: McpAuthStats = { tokenRequests: {}, withoutResource: 0, registrations: 0, registrationAttempts: 0, documents: 0, reusedRefreshTokens: 0 };
  const settings: McpAuthSettings = { accessTokenTtl: 3600, refuseClientName: false, forgeIss: false };
  const documents = new Map<string, Record<string, unknown>>([[DEFAULT_CLIENT_METADATA_URL, clientMetadataDocument(DEFAULT_CLIENT_METADATA_URL)], ...Object.entries(options.documents ?? {})]);
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const provider = new Provider(issuer, {
    clients: [{ client_id: PREREGISTERED_CLIENT, application_type: "native", token_endpoint_auth_method: "none", redirect_uris: ["http://127.0.0.1/callback"], response_types: ["code"], grant_types: ["authorization_code", "refresh_token"] }],
    features: {
      devInteractions: { enabled: true },
      registration: { enabled: options.registration !== false },
      revocation: { enabled: true },
      ...(options.cimd === true ? { clientIdMetadataDocument: { enabled: true, ack: "draft-02" } } : {}),
      resourceIndicators: {
        enabled: true,
        defaultResource: async (_ctx: unknown, _client: unknown, oneOf?: string[]) => oneOf?.[0],
        // A code or refresh request without `resource` still gets the granted one here (counted in stats).
        useGrantedResource: async () => true,
        getResourceServerInfo: async (_ctx: unknown, resource: string) => {
          if (!options.resources().includes(resource)) throw new Error(`unknown resource ${resource}`);
          return { scope: "mcp:read mcp:admin", audience: resource, accessTokenTTL: settings.accessTokenTtl, accessTokenFormat: "opaque" };
        },
      },
    },
    scopes: ["openid", "offline_access"],
    rotateRefreshToken: true,
    issueRefreshToken: async (_ctx: unknown, client: { grantTypeAllowed(g: string): boolean }) => client.grantTypeAllowed("refresh_token"),
    ttl: { AccessToken: () => settings.accessTokenTtl, RefreshToken: 3600, Grant: 3600, Interaction: 600, Session: 600, AuthorizationCode: 60 },
    cookies: { keys: ["authsome-mcp-test-cookie-key"] },
    fetch: _documentFetch(documents, stats),
  } as never);
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.path === "/token") {
      const params = ctx.oidc?.params ?? {};
      const grant = String(params["grant_type"] ?? "unknown");
      stats.tokenRequests[grant] = (stats.tokenRequests[grant] ?? 0) + 1;
      if (params["resource"] === undefined) stats.withoutResource += 1;
      if (grant === "refresh_token" && ctx.status === 400 && JSON.stringify(ctx.body).includes("invalid_grant")) stats.reusedRefreshTokens += 1;
    }
    if (ctx.path === "/reg" && ctx.method === "POST") {
      stats.registrationAttempts += 1;
      const body = (ctx.oidc as { body?: Record<string, unknown> } | undefined)?.body;
      // Refused after the fact (the body is parsed inside the route): the answer is what a strict server sends.
      if (settings.refuseClientName && ctx.status === 201 && body?.["client_name"] !== undefined) {
        ctx.status = 400;
        ctx.body = { error: "invalid_client_metadata", error_description: "client_name is not accepted here" };
      } else if (ctx.status === 201) stats.registrations += 1;
    }
    // A forged RFC 9207 `iss` on the authorization response: a client that checks it must refuse.
    const response = (ctx as unknown as { response: { get(name: string): string | undefined; set(name: string, value: string): void } }).response;
    const location = String(response.get("location") ?? "");
    if (settings.forgeIss && location.includes("code=")) response.set("location", location.replace(/([?&]iss=)[^&]*/, `$1${encodeURIComponent("https://evil.example")}`));
  });
  const handle = provider.callback();
  // The token store oidc-provider keeps (its types here are test/helpers/oidc-provider-types.d.ts, which leave it out).
  const tokens = (provider as unknown as { AccessToken: { find(value: string): Promise<AccessTokenModel | undefined> } }).AccessToken;
  server.on("request", (req: IncomingMessage, res: ServerResponse) => handle(req, res));
  return {
    issuer,
    stats,
    settings,
    async verify(token) {
      const found = await tokens.find(token);
      if (found === undefined || found.isExpired) return null;
      return { clientId: String(found.clientId), scopes: String(found.scope ?? "").split(" ").filter(Boolean), expiresAt: Number(found.exp), ...(typeof found.aud === "string" ? { resource: found.aud } : {}) };
    },
    async revoke(token) {
      await (await tokens.find(token))?.destroy();
    },
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
