/**
 * Shapes of what the vault stores, parsed with valibot on every read: a stored record is
 * external input (it may have been edited, truncated or written by another version).
 */
import * as v from "valibot";

/** Connection status. */
export type ConnectionStatus = "connected" | "needs_login";

// The four shapes below are public (ConnectionView, LoginInteraction), so their types are written
// out (JSR's public API needs explicit types); each schema is checked against its type.

/** Connection status. */
export const ConnectionStatusSchema: v.GenericSchema<ConnectionStatus> = v.picklist(["connected", "needs_login"]);

/** Non-secret connection metadata. */
export interface ConnectionMeta {
  provider: string;
  connection: string;
  authType: "oauth2" | "api_key" | "basic" | "aws_sigv4";
  flow: string;
  status: ConnectionStatus;
  scopes?: string[] | undefined;
  expiresAt?: string | undefined;
  createdAt: string;
  updatedAt: string;
  baseUrl?: string | undefined;
  clientId?: string | undefined;
  tokenType?: string | undefined;
  statusReason?: string | undefined;
}

/** Non-secret connection metadata, readable without the key. */
export const ConnectionMetaSchema: v.GenericSchema<ConnectionMeta> = v.object({
  provider: v.string(),
  connection: v.string(),
  authType: v.picklist(["oauth2", "api_key", "basic", "aws_sigv4"]),
  flow: v.string(),
  status: ConnectionStatusSchema,
  scopes: v.optional(v.array(v.string())),
  expiresAt: v.optional(v.pipe(v.string(), v.isoTimestamp())),
  createdAt: v.pipe(v.string(), v.isoTimestamp()),
  updatedAt: v.pipe(v.string(), v.isoTimestamp()),
  baseUrl: v.optional(v.string()),
  clientId: v.optional(v.string()),
  tokenType: v.optional(v.string()),
  statusReason: v.optional(v.string()),
});

/** Decrypted secrets of a connection. */
export interface Secrets {
  api_key?: string | undefined;
  access_token?: string | undefined;
  refresh_token?: string | undefined;
  id_token?: string | undefined;
  username?: string | undefined;
  password?: string | undefined;
  /** AWS-style signing credentials (`authType: "aws_sigv4"`). */
  access_key_id?: string | undefined;
  secret_access_key?: string | undefined;
  session_token?: string | undefined;
}

/** Secret fields of a connection; only ever held decrypted in memory. */
export const SecretsSchema: v.GenericSchema<Secrets> = v.object({
  api_key: v.optional(v.string()),
  access_token: v.optional(v.string()),
  refresh_token: v.optional(v.string()),
  id_token: v.optional(v.string()),
  username: v.optional(v.string()),
  password: v.optional(v.string()),
  access_key_id: v.optional(v.string()),
  secret_access_key: v.optional(v.string()),
  session_token: v.optional(v.string()),
});

/** Names of secret fields (redacted unless asked for). */
export const SECRET_FIELDS = ["api_key", "access_token", "refresh_token", "id_token", "password", "secret_access_key", "session_token"] as const;

/** An encrypted value as stored. */
export const SealedBoxSchema = v.object({
  alg: v.literal("A256GCM"),
  nonce: v.pipe(v.string(), v.base64()),
  ct: v.pipe(v.string(), v.base64()),
});

/** A connection record as stored. */
export const StoredRecordSchema = v.object({
  v: v.literal(1),
  meta: ConnectionMetaSchema,
  secrets: SealedBoxSchema,
});

/**
 * A profile's data key, wrapped by the master key. v2 binds `createdAt` as associated data (every
 * byte authenticated); v1 records (createdAt outside the seal) are read and re-wrapped as v2.
 */
export const WrappedKeySchema = v.variant("v", [
  v.object({ v: v.literal(1), key: SealedBoxSchema, createdAt: v.string() }),
  v.object({ v: v.literal(2), key: SealedBoxSchema, createdAt: v.pipe(v.string(), v.isoTimestamp()) }),
]);

/** Per-provider state within a profile: the default pointer (a connection name). */
export const ProviderStateSchema = v.object({ defaultConnection: v.optional(v.pipe(v.string(), v.regex(/^[a-z0-9][a-z0-9_.-]{0,63}$/i, "not a connection name"))) });

/** A profile's description record. */
export const ProfileMetaSchema = v.object({
  name: v.string(),
  description: v.optional(v.string()),
  createdAt: v.pipe(v.string(), v.isoTimestamp()),
});

/** A profile's description. */
export type ProfileMeta = v.InferOutput<typeof ProfileMetaSchema>;

/** Saved OAuth app credentials. */
export interface ClientSecrets {
  client_id: string;
  client_secret?: string | undefined;
  registration_access_token?: string | undefined;
  registration_client_uri?: string | undefined;
  registered_for?: string | undefined;
}

/** Saved OAuth app credentials (client id, optional secret, DCR registration). */
export const ClientSecretsSchema: v.GenericSchema<ClientSecrets> = v.object({
  client_id: v.string(),
  client_secret: v.optional(v.string()),
  registration_access_token: v.optional(v.string()),
  registration_client_uri: v.optional(v.string()),
  registered_for: v.optional(v.string()),
});

/** A deterministic JSON encoding (sorted keys) used as associated data. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, item]) => `${JSON.stringify(k)}:${canonicalJson(item)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}
