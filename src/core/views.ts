/**
 * The JSON shapes the API and `--json` output use (snake_case, stable). Secrets are redacted
 * here unless the caller asked for them.
 */
import type { ProviderPlugin } from "./plugin.ts";
import { type ConnectionMeta, SECRET_FIELDS, type Secrets } from "./records.ts";

/** Shown in place of a secret value. */
export const REDACTED = "<redacted>";

/** A connection as shown to users. */
export interface ConnectionView {
  provider: string;
  connection: string;
  auth_type: string;
  flow: string;
  status: string;
  is_default: boolean;
  scopes: string[];
  expires_at: string | null;
  created_at: string;
  updated_at: string;
  base_url?: string;
  client_id?: string;
  status_reason?: string;
  secrets?: Record<string, string>;
}

/** Builds the view of a connection; `secrets` omitted when not read, redacted unless `show`. @internal */
export function connectionView(
  meta: ConnectionMeta,
  isDefault: boolean,
  secrets?: Secrets,
  show = false,
): ConnectionView {
  const view: ConnectionView = {
    provider: meta.provider,
    connection: meta.connection,
    auth_type: meta.authType,
    flow: meta.flow,
    status: meta.status,
    is_default: isDefault,
    scopes: meta.scopes ?? [],
    expires_at: meta.expiresAt ?? null,
    created_at: meta.createdAt,
    updated_at: meta.updatedAt,
  };
  if (meta.baseUrl !== undefined) view.base_url = meta.baseUrl;
  if (meta.clientId !== undefined) view.client_id = meta.clientId;
  if (meta.statusReason !== undefined) view.status_reason = meta.statusReason;
  if (secrets !== undefined) {
    view.secrets = {};
    for (const [field, value] of Object.entries(secrets)) {
      if (typeof value !== "string") continue;
      const secret = (SECRET_FIELDS as readonly string[]).includes(field);
      view.secrets[field] = secret && !show ? REDACTED : value;
    }
  }
  return view;
}

/** A provider as listed. */
export interface ProviderView {
  name: string;
  display_name: string;
  auth_type: string;
  flows: string[];
  source: string;
  default_connection: string | null;
  connections: ConnectionView[];
}

/** Builds the listing view of a provider. @internal */
export function providerView(
  plugin: ProviderPlugin,
  source: string,
  defaultConnection: string | undefined,
  connections: ConnectionView[],
): ProviderView {
  return {
    name: plugin.name,
    display_name: plugin.displayName ?? plugin.name,
    auth_type: plugin.authType,
    flows: defaultFlows(plugin),
    source,
    default_connection: defaultConnection ?? null,
    connections,
  };
}

/** The plugin's flows, defaulted by auth type. @internal */
export function defaultFlows(plugin: ProviderPlugin): string[] {
  if (plugin.flows !== undefined && plugin.flows.length > 0) return [...plugin.flows];
  return plugin.authType === "oauth2" ? ["pkce"] : ["api_key"];
}
