/**
 * How authsome identifies itself to an MCP server's authorization server, in the order the
 * MCP authorization spec gives: a Client ID Metadata Document when the server advertises
 * `client_id_metadata_document_supported` (the client id is the document's https URL; nothing
 * is registered), else dynamic client registration (RFC 7591) as a public native client, else
 * a pre-registered `--client-id`. A registration is made once per authorization-server issuer
 * and redirect URI, and reused by every MCP server behind that issuer.
 */
import * as oauth from "oauth4webapi";
import { AuthsomeError } from "../core/errors.ts";
import type { ClientSecrets } from "../core/records.ts";
import type { Vault } from "../core/vault.ts";
import type { AuthorizationServerInfo } from "./discovery.ts";
import { isLoopbackHost, mcpFetch } from "./http.ts";
import type { ClientIdentity } from "./provider.ts";

/**
 * authsome's Client ID Metadata Document (docs/mcp-client-metadata.json is its content); an
 * authorization server that supports metadata documents fetches it to learn who is asking.
 */
export const DEFAULT_CLIENT_METADATA_URL = "https://raw.githubusercontent.com/authsome-dev/authsome/main/docs/mcp-client-metadata.json";

/** The document served at a client-metadata URL (draft-ietf-oauth-client-id-metadata-document). */
export function clientMetadataDocument(url: string): Record<string, unknown> {
  return {
    client_id: url,
    client_name: "authsome",
    client_uri: "https://github.com/authsome-dev/authsome",
    application_type: "native",
    redirect_uris: ["http://127.0.0.1:7999/callback", "http://127.0.0.1/callback"],
    grant_types: ["authorization_code", "refresh_token"],
    response_types: ["code"],
    token_endpoint_auth_method: "none",
  };
}

/** What the login uses: a client id, how it was obtained, and the vault record to save. */
export interface ResolvedClient {
  identity: ClientIdentity;
  clientId: string;
  /** To save for this provider before the login (null: the flow resolves `--client-id` itself). */
  save: ClientSecrets | null;
}

/** What {@link resolveClient} needs. */
export interface ClientRequest {
  as: AuthorizationServerInfo;
  redirectUri: string;
  vault: Vault;
  /** The provider the login is for, and the other MCP providers behind the same issuer. */
  provider: string;
  sameIssuer: string[];
  clientId?: string;
  clientMetadataUrl?: string;
  notify(message: string): void;
}

/** The key a registration is reused under: one per issuer and redirect URI. */
export function registrationKey(issuer: string, redirectUri: string): string {
  return `mcp ${issuer} ${redirectUri}`;
}

/** Picks the client identity in the spec's order, registering only when nothing else applies. */
export async function resolveClient(request: ClientRequest): Promise<ResolvedClient> {
  const { as } = request;
  if (request.clientId !== undefined) return { identity: "client_id", clientId: request.clientId, save: null };
  if (request.clientMetadataUrl !== undefined || as.cimdSupported) {
    const url = request.clientMetadataUrl ?? DEFAULT_CLIENT_METADATA_URL;
    if (!url.startsWith("https://")) throw new AuthsomeError("usage", "--client-metadata-url must be an https URL (the authorization server fetches it)");
    if (!as.cimdSupported) throw new AuthsomeError("usage", `${as.issuer} does not support client metadata documents`, { hint: "drop --client-metadata-url (authsome registers a client), or pass --client-id" });
    return { identity: "metadata_document", clientId: url, save: { client_id: url } };
  }
  if (as.registrationEndpoint === undefined) {
    throw new AuthsomeError("usage", `${as.issuer} supports neither client metadata documents nor dynamic client registration`, {
      hint: "register authsome with the server's operator (redirect URI http://127.0.0.1:7999/callback) and pass --client-id ID",
    });
  }
  const key = registrationKey(as.issuer, request.redirectUri);
  for (const provider of [request.provider, ...request.sameIssuer]) {
    const saved = await request.vault.getClient(provider).catch(() => null);
    if (saved?.registered_for === key) {
      request.notify(`Using the client registered earlier at ${as.issuer} (${saved.client_id}).`);
      return { identity: "registration", clientId: saved.client_id, save: saved };
    }
  }
  request.notify(`Registering authsome as a client of ${as.issuer}…`);
  const registered = await register(as, request.redirectUri);
  return { identity: "registration", clientId: registered.client_id, save: { ...registered, registered_for: key } };
}

/** RFC 7591 metadata: what a public native client needs, and the optional name after it. */
function _metadata(redirectUri: string, minimal: boolean): Partial<oauth.OmitSymbolProperties<oauth.Client>> {
  const required = { redirect_uris: [redirectUri], token_endpoint_auth_method: "none", grant_types: ["authorization_code", "refresh_token"], response_types: ["code"] };
  // No `scope`: a server limiting registration scopes refuses it (oidc-provider with
  // resource-server scopes answers invalid_client_metadata), and the authorization request
  // carries the scopes anyway.
  return minimal ? required : { ...required, application_type: "native", client_name: "authsome" };
}

/**
 * Registers a public native client. A server refusing optional metadata
 * (`invalid_client_metadata`) gets one retry with only the members a client cannot do without.
 */
export async function register(as: AuthorizationServerInfo, redirectUri: string): Promise<ClientSecrets> {
  const server = { issuer: as.issuer, registration_endpoint: as.registrationEndpoint } as oauth.AuthorizationServer;
  const options = { [oauth.customFetch]: (u: string, init: RequestInit) => mcpFetch(u, init), [oauth.allowInsecureRequests]: isLoopbackHost(new URL(as.issuer).hostname) };
  let last: unknown;
  for (const minimal of [false, true]) {
    try {
      const response = await oauth.dynamicClientRegistrationRequest(server, _metadata(redirectUri, minimal), options);
      const client = await oauth.processDynamicClientRegistrationResponse(response);
      return {
        client_id: client.client_id,
        ...(typeof client.client_secret === "string" ? { client_secret: client.client_secret } : {}),
        ...(typeof client["registration_access_token"] === "string" ? { registration_access_token: client["registration_access_token"] } : {}),
        ...(typeof client["registration_client_uri"] === "string" ? { registration_client_uri: client["registration_client_uri"] } : {}),
      };
    } catch (error) {
      last = error;
      if (!(error instanceof oauth.ResponseBodyError && error.error === "invalid_client_metadata")) break;
    }
  }
  if (last instanceof AuthsomeError) throw last;
  const detail = last instanceof oauth.ResponseBodyError ? `${last.error}${last.error_description === undefined ? "" : `: ${last.error_description}`}` : last instanceof Error ? last.message : String(last);
  throw new AuthsomeError("auth_failed", `${as.issuer} refused the client registration (${detail})`, { cause: last, hint: "pass a client registered by hand: --client-id ID" });
}
