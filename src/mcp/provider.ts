/**
 * An MCP server stored as a provider of the home: the provider plugin authsome writes for it
 * (`<home>/plugins/<name>.json`, the same place `providers add` uses, so `list`, `inspect`,
 * `run` and the interceptor see it like any other provider) and the MCP facts beside it
 * (`<home>/mcp/<name>.json`: URL, resource, issuer, how the client identified itself), plus the
 * step-up state the proxy, interceptor and bridge record (`<home>/mcp/<name>.step-up.json`).
 * With a shared store the plugin and the server record go to the store instead (server-store.ts).
 */
import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import * as v from "valibot";
import { AuthsomeError } from "../core/errors.ts";
import { readRegularFile, writeFileAtomic } from "../core/files.ts";
import type { ProviderPlugin } from "../core/plugin.ts";
import { validatePlugin } from "../core/plugin-schema.ts";
import type { McpDiscovery } from "./discovery.ts";

/** How authsome identified itself to the authorization server. */
export type ClientIdentity = "metadata_document" | "registration" | "client_id";

/** A server record as kept (a home file, or inside a sealed store record: server-store.ts). */
export const ServerRecordSchema = v.object({
  name: v.string(),
  url: v.string(),
  resource: v.string(),
  resourceMetadataUrl: v.string(),
  resourceName: v.optional(v.string()),
  issuer: v.string(),
  scopesSupported: v.array(v.string()),
  clientIdentity: v.picklist(["metadata_document", "registration", "client_id"]),
  updatedAt: v.string(),
});

/** What authsome keeps about an MCP server (no secret: those are in the vault). */
export type McpServerRecord = v.InferOutput<typeof ServerRecordSchema>;

const StepUpSchema = v.record(v.string(), v.object({ scopes: v.array(v.string()), at: v.string(), host: v.optional(v.string()) }));

/** Step-up requests by `profile/connection`: the scopes a server asked for, and when. */
export type StepUpState = v.InferOutput<typeof StepUpSchema>;

const dirOf = (home: string) => join(home, "mcp");

/** A provider name from the server's host: `mcp.example.com` -> `example` (`--name` chooses another). */
export function deriveName(url: URL): string {
  const labels = url.hostname.toLowerCase().split(".").filter((l) => l !== "");
  while (labels.length > 1 && ["mcp", "www", "api"].includes(labels[0] ?? "")) labels.shift();
  if (labels.length > 1) labels.pop();
  const name = labels.join("-").replaceAll(/[^a-z0-9_-]/g, "-").replace(/^[^a-z0-9]+/, "").slice(0, 60);
  return name === "" ? "mcp-server" : name;
}

/** The provider plugin for a discovered server: OAuth endpoints, and injection scoped to the resource's origin and path. */
export function pluginFor(name: string, found: McpDiscovery, scopes: string[]): ProviderPlugin {
  const url = new URL(found.url);
  const resource = new URL(found.resource);
  // Injection covers the resource's path (the endpoint's, when the resource names the origin
  // only): the legacy SSE transport posts to a sibling path the server names at run time.
  const prefix = resource.pathname.replace(/\/+$/, "");
  const host = `${url.protocol === "http:" ? "http://" : ""}${url.hostname}${url.port === "" ? "" : `:${url.port}`}`;
  const as = found.authorizationServer;
  const plugin = {
    name,
    displayName: found.resourceName ?? url.host,
    authType: "oauth2",
    flows: ["pkce"],
    oauth: {
      issuer: as.issuer,
      authorizationUrl: as.authorizationEndpoint,
      tokenUrl: as.tokenEndpoint,
      ...(as.revocationEndpoint === undefined ? {} : { revocationUrl: as.revocationEndpoint }),
      ...(as.registrationEndpoint === undefined ? {} : { registrationUrl: as.registrationEndpoint }),
      scopes,
      // RFC 8707 on the authorization, token and refresh requests (the MCP authorization spec).
      resource: found.resource,
    },
    inject: [{ host, ...(prefix === "" ? {} : { pathPrefix: prefix }) }],
    docsUrl: found.url,
  };
  return validatePlugin(plugin, `MCP server ${found.url}`);
}

/** Writes the plugin where installed providers live (atomic, 0600). */
export async function writeServerPlugin(home: string, plugin: ProviderPlugin, url: string): Promise<void> {
  await writeFileAtomic(join(home, "plugins", `${plugin.name}.json`), `${JSON.stringify({ $source: `mcp:${url}`, ...plugin }, null, 2)}\n`);
}

/** Reads one server record, or null. */
export async function readServer(home: string, name: string): Promise<McpServerRecord | null> {
  const text = await _read(join(dirOf(home), `${name}.json`));
  if (text === null) return null;
  const parsed = v.safeParse(ServerRecordSchema, _json(text));
  if (!parsed.success) throw new AuthsomeError("record_invalid", `${join(dirOf(home), `${name}.json`)} is not an MCP server record`, { hint: "log in to the server again: authsome login <url> --force" });
  return parsed.output;
}

/** Every server record of the home, by name. */
export async function listServers(home: string): Promise<McpServerRecord[]> {
  let files: string[];
  try {
    files = await readdir(dirOf(home));
  } catch {
    return [];
  }
  const names = files.filter((f) => f.endsWith(".json") && !f.endsWith(".step-up.json") && !f.startsWith(".")).map((f) => f.slice(0, -5)).sort();
  const found = await Promise.all(names.map((n) => readServer(home, n).catch(() => null)));
  return found.filter((r): r is McpServerRecord => r !== null);
}

/** Writes a server record (atomic, 0600 in a 0700 directory). */
export async function writeServer(home: string, record: McpServerRecord): Promise<void> {
  await writeFileAtomic(join(dirOf(home), `${record.name}.json`), `${JSON.stringify(record, null, 2)}\n`);
}

/** Removes a server's records (not its plugin or connections). */
export async function removeServer(home: string, name: string): Promise<void> {
  await rm(join(dirOf(home), `${name}.json`), { force: true });
  await rm(join(dirOf(home), `${name}.step-up.json`), { force: true });
}

/** The step-up requests recorded for a server. */
export async function readStepUp(home: string, name: string): Promise<StepUpState> {
  const text = await _read(join(dirOf(home), `${name}.step-up.json`));
  const parsed = text === null ? null : v.safeParse(StepUpSchema, _json(text));
  return parsed?.success === true ? parsed.output : {};
}

/**
 * Records that `profile/connection` was refused for want of `scopes`. Last writer wins: two
 * proxies recording at once each record a true request, and the login asks for the union.
 */
export async function recordStepUp(home: string, name: string, key: string, scopes: string[], host?: string): Promise<void> {
  const state = await readStepUp(home, name);
  const before = state[key]?.scopes ?? [];
  state[key] = { scopes: [...new Set([...before, ...scopes])], at: new Date().toISOString(), ...(host === undefined ? {} : { host }) };
  await writeFileAtomic(join(dirOf(home), `${name}.step-up.json`), `${JSON.stringify(state, null, 2)}\n`);
}

/** Clears a connection's step-up request (after a login that got the scopes). */
export async function clearStepUp(home: string, name: string, key: string): Promise<void> {
  const state = await readStepUp(home, name);
  if (state[key] === undefined) return;
  delete state[key];
  await writeFileAtomic(join(dirOf(home), `${name}.step-up.json`), `${JSON.stringify(state, null, 2)}\n`);
}

async function _read(path: string): Promise<string | null> {
  try {
    return await readRegularFile(path, 256 * 1024);
  } catch (error) {
    if (typeof error === "object" && error !== null && "code" in error && error.code === "ENOENT") return null;
    throw error;
  }
}

function _json(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
