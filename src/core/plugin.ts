/**
 * The provider plugin contract. A plugin is mostly data: who the provider is, how a person
 * logs in, and where the credential goes on outbound requests. Validation happens once, at
 * registration (src/core/plugin-schema.ts); `definePlugin()` only helps inference.
 */

/** Every auth type, at runtime (the schema and the v1 loader check against it). */
export const AUTH_TYPES = ["oauth2", "api_key", "basic", "aws_sigv4"] as const;

/**
 * How a provider authenticates. `aws_sigv4`: each request to the declared hosts is signed with
 * AWS Signature Version 4 (src/core/sigv4.ts) from an access key id, a secret access key and an
 * optional session token; the inject rules name the hosts, their `in`/`name`/`format` are unused.
 */
export type AuthType = (typeof AUTH_TYPES)[number];

/** Every login flow, at runtime. */
export const FLOW_NAMES = ["pkce", "device_code", "client_credentials", "dcr_pkce", "api_key"] as const;

/** Login flows authsome implements (one file each under src/flows/). */
export type FlowName = (typeof FLOW_NAMES)[number];

/** Every credential field, at runtime. */
export const CREDENTIAL_FIELDS = [
  "api_key",
  "access_token",
  "refresh_token",
  "id_token",
  "username",
  "password",
  "client_id",
  "base_url",
  "access_key_id",
  "secret_access_key",
  "session_token",
] as const;

/** Fields of a stored credential that injection formats and env mappings may name. */
export type CredentialField = (typeof CREDENTIAL_FIELDS)[number];

/** True when `name` is a {@link CredentialField}. */
export function isCredentialField(name: string): name is CredentialField {
  return (CREDENTIAL_FIELDS as readonly string[]).includes(name);
}

/**
 * Where a credential goes on a matching request.
 *
 * `host` forms: `api.example.com` (https only, any port), `api.example.com:8443` (that port),
 * `http://host` (plain HTTP allowed too), `*.example.com` (any subdomain), or
 * `regex:api\.example\.com` (RE2 syntax, linear-time; matched case-insensitively against the
 * whole normalised host without port; https only, any port). Rules covering every host or a
 * public suffix (`*.com`, `regex:.*`) are refused at load (docs/plugins.md, "Host patterns").
 */
export interface InjectionRule {
  host: string;
  /** Only paths under this prefix (normalised path, segment boundary). */
  pathPrefix?: string;
  /**
   * Where the credential goes; default `header`. `path`: a path segment `<name><placeholder>`
   * (the run's placeholder, as an SDK puts a key in the URL: Telegram's `/bot<token>/getMe`)
   * becomes `<name><token>`; a request without that segment is sent unchanged.
   */
  in?: "header" | "query" | "basic" | "path";
  /**
   * Header or query parameter name: default `Authorization` for `header` and `basic`; required
   * for `query`. For `path`, the literal start of the segment (`bot`), required.
   */
  name?: string;
  /**
   * Value template; `{token}` is the API key or access token, `{field}` any CredentialField;
   * `{token.0}` / `{token.1}` the parts before and after the first `:` of a pair entered as one
   * value (Trello's `KEY:TOKEN`). Not used with `path` (the segment gets `{token}`).
   * Default `Bearer {token}` (header), `{token}` (query); for `basic` it is the `user:password`
   * pair before base64, default `{username}:{password}` (Stripe-style keys: `{token}:`).
   */
  format?: string;
  /**
   * `false` turns off response scrubbing for requests this rule injects: for endpoints that
   * legitimately return credentials (a key-management API). Default: scrubbed.
   */
  scrub?: boolean;
}

/** OAuth2 endpoints and client behaviour; URLs may use the `{base_url}` template. */
export interface OAuthConfig {
  authorizationUrl?: string;
  tokenUrl?: string;
  revocationUrl?: string;
  deviceAuthorizationUrl?: string;
  registrationUrl?: string;
  /** Issuer for RFC 8414 / OIDC discovery (DCR providers that publish metadata). */
  issuer?: string;
  scopes?: string[];
  /** Use PKCE S256 with the authorization-code flow; default true. */
  pkce?: boolean;
  /** Client authentication at the token endpoint; default `client_secret_basic`. */
  clientAuth?: "client_secret_basic" | "client_secret_post";
  /** Registered redirect URI; default `http://127.0.0.1:7999/callback`. */
  redirectUri?: string;
  /** Extra authorization-request parameters the provider needs (e.g. `access_type=offline`). */
  authorizationParams?: Record<string, string>;
  /** Separator between scopes; default a space. */
  scopeSeparator?: string;
  /**
   * RFC 8707 resource indicator(s): absolute URIs sent as `resource` on the authorization,
   * token and refresh requests (MCP servers require it); `{base_url}` templates allowed.
   */
  resource?: string | string[];
  /**
   * How the device flow's token polls are sent: `form` (default, RFC 8628 3.4) or `json`, the
   * service's own device protocol as the Python authsome's `device_token_request: "json"` and
   * Postiz's CLI speak it: each poll a JSON body `{"device_code": ...}`, and no OAuth client
   * (a `--client-id`, if given, goes on the form-encoded code request only).
   */
  deviceTokenRequest?: "form" | "json";
}

/** API-key collection hints. */
export interface ApiKeyConfig {
  /** Regular expression a valid key matches; a mismatch shows `hint`. */
  pattern?: string;
  /** Shown when the key does not match, and on the form. */
  hint?: string;
  /** Where to create a key (shown on the form). */
  keyUrl?: string;
}

/**
 * SigV4 signing scope for `authType: "aws_sigv4"`. Each is read from the request's host when
 * absent (`s3.us-east-1.amazonaws.com`: s3, us-east-1; `bedrock-runtime.us-west-2...`: bedrock).
 */
export interface SigV4Config {
  /** Signing name, e.g. `s3`, `bedrock`, `execute-api`. */
  service?: string;
  /** Region, e.g. `us-east-1`; `auto` for Cloudflare R2. Default: from the host, else us-east-1. */
  region?: string;
}

/** One request as a {@link SignHook} sees it (after authsome's and hop-by-hop headers are gone). */
export interface SignRequest {
  method: string;
  /** The full URL that will be sent (`https://host/path?query`). */
  url: string;
  /** Header names lower-case; `host` included. */
  headers: Record<string, string>;
  /** The whole body (read before signing), or null for none. */
  body: Uint8Array | null;
}

/** What a {@link SignHook} sets: headers and query parameters, replacing the agent's. */
export interface SignResult {
  headers?: Record<string, string>;
  query?: Record<string, string>;
}

/**
 * A request signer in a TypeScript plugin (HMAC-style APIs). It must be self-contained: it is
 * stored as its source text and runs, per request, in a sandbox child with only Web Crypto,
 * `TextEncoder`/`TextDecoder`, `URL`, `btoa`/`atob` (no network, files, env or imports), bounded
 * in time (docs/security.md). It computes; it never performs I/O.
 */
export type SignHook = (request: SignRequest, credential: Partial<Record<CredentialField, string>>) => SignResult | Promise<SignResult>;

/** A sign hook as stored once installed: the function's source text. */
export interface SignSource {
  source: string;
}

/** A provider plugin. Only `name`, `authType` and `inject` are required. */
export interface ProviderPlugin {
  name: string;
  displayName?: string;
  authType: AuthType;
  /** Supported flows, the first is the default. Default: `api_key`, or `pkce` for oauth2. */
  flows?: FlowName[];
  oauth?: OAuthConfig;
  apiKey?: ApiKeyConfig;
  /** Default for `{base_url}` (overridden by `login --base-url`). */
  baseUrl?: string;
  inject: InjectionRule[];
  /** Env variables `export` prints, name -> credential field (never `refresh_token`). */
  env?: Record<string, CredentialField>;
  docsUrl?: string;
  /** SigV4 scope for `authType: "aws_sigv4"`. */
  sigv4?: SigV4Config;
  /**
   * Signs each request to the declared hosts instead of rendering the rules' `format` (the
   * rules then only select hosts and paths). A function in a TypeScript plugin; stored as
   * `{ source }` at `providers add`.
   */
  sign?: SignHook | SignSource;
}

/** Declares a provider plugin with full type inference. Returns its argument unchanged. */
export function definePlugin<const T extends ProviderPlugin>(plugin: T): T {
  return plugin;
}
