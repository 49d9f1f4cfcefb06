/**
 * Discovery from an MCP server's URL, as the MCP authorization spec orders it: probe the
 * endpoint without a token, follow the 401's `resource_metadata` (RFC 9728 5.1), else the
 * well-known protected-resource metadata paths (RFC 9728 3.1: path-specific, then root), then
 * the authorization server's metadata (RFC 8414, then OpenID Connect Discovery) through
 * oauth4webapi, which also checks that the metadata names the issuer it was fetched for.
 * What is missing is named in one error, so a user knows which side to fix.
 */
import * as oauth from "oauth4webapi";
import * as v from "valibot";
import { AuthsomeError } from "../core/errors.ts";
import { type BearerChallenge, parseBearerChallenge } from "./challenge.ts";
import { isLoopbackHost, mcpFetch } from "./http.ts";

/** What discovery found for one MCP server. */
export interface McpDiscovery {
  /** The MCP endpoint the user named. */
  url: string;
  /** The resource identifier from the metadata (sent as `resource`, RFC 8707). */
  resource: string;
  resourceName?: string;
  /** Where the protected-resource metadata was found. */
  resourceMetadataUrl: string;
  /** Scopes the resource advertises (`scopes_supported`), and those its 401 asked for. */
  scopesSupported: string[];
  challengeScopes: string[];
  authorizationServer: AuthorizationServerInfo;
}

/** The authorization server members authsome uses. */
export interface AuthorizationServerInfo {
  issuer: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  registrationEndpoint?: string;
  revocationEndpoint?: string;
  /** `client_id_metadata_document_supported` (MCP client identity, first choice). */
  cimdSupported: boolean;
  /** RFC 9207 `authorization_response_iss_parameter_supported`. */
  issParameterSupported: boolean;
  scopesSupported: string[];
}

const HttpsOrLoopback = v.pipe(v.string(), v.url(), v.check((u) => _allowedUrl(new URL(u)), "must be https (http only on loopback)"));
const ResourceMetadataSchema = v.object({
  resource: HttpsOrLoopback,
  authorization_servers: v.optional(v.array(HttpsOrLoopback)),
  scopes_supported: v.optional(v.array(v.string())),
  resource_name: v.optional(v.string()),
});

function _allowedUrl(url: URL): boolean {
  return url.protocol === "https:" || (url.protocol === "http:" && isLoopbackHost(url.hostname));
}

/** Checks the URL a user gave: http(s), https unless loopback, no credentials or fragment. */
export function parseServerUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new AuthsomeError("usage", `"${text.slice(0, 80)}" is not a URL`, { hint: "give the MCP server's endpoint, e.g. https://mcp.example.com/mcp" });
  }
  if (!_allowedUrl(url)) throw new AuthsomeError("usage", `${url.origin}: MCP servers are reached over https (plain http only on loopback)`);
  if (url.username !== "" || url.password !== "") throw new AuthsomeError("usage", "the MCP server URL must not contain a user name or password");
  url.hash = "";
  return url;
}

const PROBE_BODY = JSON.stringify({ jsonrpc: "2.0", id: 0, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "authsome", version: "1" } } });

/** Probes the endpoint without a token: the 401's Bearer challenge (null when there was none). */
async function _probe(url: URL): Promise<{ status: number; challenge: BearerChallenge | null }> {
  const response = await mcpFetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
    body: PROBE_BODY,
  });
  await response.body?.cancel().catch(() => {});
  return { status: response.status, challenge: parseBearerChallenge(response.headers.get("www-authenticate")) };
}

/** RFC 9728 3.1 well-known URLs for a resource: path-specific first, then the origin's root. */
export function resourceMetadataUrls(url: URL): string[] {
  const path = url.pathname.replace(/\/+$/, "");
  const urls = [`${url.origin}/.well-known/oauth-protected-resource${path}`, `${url.origin}/.well-known/oauth-protected-resource`];
  return [...new Set(urls)];
}

/**
 * The resource the metadata names must cover the URL the user gave: same origin, and a path
 * the endpoint's path starts with (RFC 9728 3.3; an MCP server often names its origin).
 */
export function resourceCovers(resource: string, url: URL): boolean {
  const named = new URL(resource);
  if (named.origin !== url.origin) return false;
  const prefix = named.pathname.replace(/\/+$/, "");
  return url.pathname === prefix || url.pathname.startsWith(`${prefix}/`) || prefix === "";
}

async function _resourceMetadata(url: URL, hinted: string | undefined): Promise<{ metadata: v.InferOutput<typeof ResourceMetadataSchema>; from: string } | { tried: string[] }> {
  const candidates = [...(hinted === undefined ? [] : [hinted]), ...resourceMetadataUrls(url)];
  const tried: string[] = [];
  for (const candidate of candidates) {
    if (!_allowedUrl(new URL(candidate))) continue;
    tried.push(candidate);
    const response = await mcpFetch(candidate, { headers: { accept: "application/json" } });
    if (response.status !== 200) {
      await response.body?.cancel().catch(() => {});
      continue;
    }
    const parsed = v.safeParse(ResourceMetadataSchema, await response.json().catch(() => null));
    if (!parsed.success) throw new AuthsomeError("provider_error", `${candidate} is not protected-resource metadata (RFC 9728): ${parsed.issues[0].message}`);
    if (!resourceCovers(parsed.output.resource, url)) {
      throw new AuthsomeError("provider_error", `${candidate} describes ${parsed.output.resource}, not ${url.href}`, { hint: "the server's metadata names another resource; refusing it (RFC 9728 3.3)" });
    }
    return { metadata: parsed.output, from: candidate };
  }
  return { tried };
}

/** Fetches authorization-server metadata: RFC 8414 first, then OpenID Connect Discovery. */
export async function discoverAuthorizationServer(issuer: string): Promise<AuthorizationServerInfo> {
  const issuerUrl = new URL(issuer);
  const options = { [oauth.customFetch]: (u: string, init: RequestInit) => mcpFetch(u, init), [oauth.allowInsecureRequests]: isLoopbackHost(issuerUrl.hostname) };
  let found: oauth.AuthorizationServer | undefined;
  const failures: string[] = [];
  for (const algorithm of ["oauth2", "oidc"] as const) {
    try {
      found = await oauth.processDiscoveryResponse(issuerUrl, await oauth.discoveryRequest(issuerUrl, { ...options, algorithm }));
      break;
    } catch (error) {
      if (error instanceof AuthsomeError) throw error;
      failures.push(`${algorithm === "oauth2" ? "RFC 8414" : "OpenID"}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (found === undefined) throw new AuthsomeError("provider_error", `the authorization server ${issuer} publishes no usable metadata (${failures.join("; ")})`);
  return _serverInfo(found);
}

function _serverInfo(as: oauth.AuthorizationServer): AuthorizationServerInfo {
  const missing = (["authorization_endpoint", "token_endpoint"] as const).filter((k) => as[k] === undefined);
  // MCP authorization: clients must refuse a server that does not advertise S256 (no PKCE downgrade).
  if (!(as.code_challenge_methods_supported ?? []).includes("S256")) missing.push("code_challenge_methods_supported with S256" as never);
  if (missing.length > 0) throw new AuthsomeError("provider_error", `the authorization server ${as.issuer} does not advertise ${missing.join(", ")}`);
  return {
    issuer: as.issuer,
    authorizationEndpoint: as.authorization_endpoint ?? "",
    tokenEndpoint: as.token_endpoint ?? "",
    ...(as.registration_endpoint === undefined ? {} : { registrationEndpoint: as.registration_endpoint }),
    ...(as.revocation_endpoint === undefined ? {} : { revocationEndpoint: as.revocation_endpoint }),
    cimdSupported: as["client_id_metadata_document_supported"] === true,
    issParameterSupported: as.authorization_response_iss_parameter_supported === true,
    scopesSupported: as.scopes_supported ?? [],
  };
}

/** Runs discovery for an MCP endpoint; throws one error naming what the server does not advertise. */
export async function discoverMcpServer(url: URL): Promise<McpDiscovery> {
  const probe = await _probe(url);
  if (probe.status !== 401 && probe.status !== 403) {
    const what = probe.status >= 200 && probe.status < 300 ? "answered without asking for a token, so there is nothing to log in to" : `answered HTTP ${probe.status} instead of 401 with a Bearer challenge`;
    throw new AuthsomeError("provider_error", `${url.href} ${what}`);
  }
  const found = await _resourceMetadata(url, probe.challenge?.resourceMetadata);
  if ("tried" in found) {
    throw new AuthsomeError("provider_error", `${url.href} advertises no protected-resource metadata: its 401 named no resource_metadata${probe.challenge === null ? " (no Bearer challenge at all)" : ""} and ${found.tried.join(", ")} answered none`, {
      hint: "the server does not follow the MCP authorization spec; ask its operator, or add a provider plugin by hand (authsome providers add)",
    });
  }
  const issuer = found.metadata.authorization_servers?.[0];
  if (issuer === undefined) throw new AuthsomeError("provider_error", `${found.from} names no authorization_servers`, { hint: "the server's protected-resource metadata must list its authorization server (RFC 9728 2)" });
  return {
    url: url.href,
    resource: found.metadata.resource,
    ...(found.metadata.resource_name === undefined ? {} : { resourceName: found.metadata.resource_name }),
    resourceMetadataUrl: found.from,
    scopesSupported: found.metadata.scopes_supported ?? [],
    challengeScopes: probe.challenge?.scope ?? [],
    authorizationServer: await discoverAuthorizationServer(issuer),
  };
}
