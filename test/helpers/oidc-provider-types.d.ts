/**
 * The slice of `oidc-provider` (which ships no types) that test/helpers/oidc-provider-app.ts uses.
 */
declare module "oidc-provider" {
  import type { IncomingMessage, ServerResponse } from "node:http";

  interface OidcClient {
    clientId: string;
    grantTypeAllowed(grant: string): boolean;
  }

  interface OidcContext {
    path: string;
    method: string;
    status: number;
    body: unknown;
    oidc?: { params?: Record<string, unknown> };
  }

  type Ttl = number | ((ctx: OidcContext, token: unknown, client: OidcClient) => number);

  interface ProviderConfiguration {
    clients?: Record<string, unknown>[];
    features?: Record<string, { enabled: boolean }>;
    scopes?: string[];
    rotateRefreshToken?: boolean;
    issueRefreshToken?: (ctx: OidcContext, client: OidcClient, code: unknown) => Promise<boolean>;
    ttl?: Record<string, Ttl>;
    cookies?: { keys: string[] };
  }

  export default class Provider {
    constructor(issuer: string, configuration: ProviderConfiguration);
    use(middleware: (ctx: OidcContext, next: () => Promise<void>) => Promise<void>): void;
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
  }
}
