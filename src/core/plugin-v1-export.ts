/**
 * The `export` section of authsome-v1 files, in both dialects, with the meaning the Python
 * authsome gives it (`AuthService._export_connection_values`):
 *
 * - nested (older files): `{"env": {"access_token": "GITHUB_TOKEN"}}`, field -> name;
 * - flat (newer `.jsonc` files): `{"GH_TOKEN": "ACCESS_TOKEN"}`, name -> value, where
 *   `ACCESS_TOKEN` and `API_TOKEN` both mean the connection's token (the access token of an
 *   OAuth provider, the key of an API-key provider) and `BASE_URL` the connection's base URL
 *   (case-insensitive); our extension also takes `API_KEY`, `ID_TOKEN` and credential field names.
 * - Either way the token is exported under its mapped name, or else under the default
 *   `<NAME>_ACCESS_TOKEN` / `<NAME>_API_KEY` (so a flat map adds names beside the default).
 *
 * Departures, on purpose (docs/plugins.md): refresh tokens are never exported (Python exports
 * `<NAME>_REFRESH_TOKEN`), and `API_URL` is refused (authsome keeps no per-connection API URL).
 */
import * as v from "valibot";
import type { CredentialField } from "./plugin.ts";
import { isCredentialField } from "./plugin.ts";
import { objectOnly, pluginError } from "./plugin-schema.ts";

/** The valibot schema of `export`: nested or flat, never both, string values only. */
export const ExportV1Schema = v.pipe(
  objectOnly(v.record(v.string(), v.unknown())),
  v.rawCheck(({ dataset, addIssue }) => {
    const problem = dataset.typed ? _exportProblem(dataset.value) : null;
    if (problem !== null) addIssue({ message: problem });
  }),
);

function _exportProblem(value: Record<string, unknown>): string | null {
  const strings = (o: unknown): boolean =>
    typeof o === "object" && o !== null && !Array.isArray(o) && Object.values(o).every((x) => typeof x === "string");
  if (!Object.hasOwn(value, "env")) return strings(value) ? null : "expected {\"NAME\": \"FIELD\"} with string values";
  if (Object.keys(value).length > 1) return "use either {\"env\": {...}} or flat {\"NAME\": \"FIELD\"} pairs, not both";
  return strings(value["env"]) ? null : "expected {\"env\": {\"<field>\": \"NAME\"}} with string values";
}

/** What `export` needs to know of the v1 file. */
export interface ExportSource {
  name: string;
  auth_type: "oauth2" | "api_key";
  export?: Record<string, unknown> | null | undefined;
  api_key?: { env_var?: string | null | undefined } | null | undefined;
}

/** Flat values with a meaning of their own; `token` is the connection's token. */
const FLAT_VALUES: Record<string, CredentialField | "token" | null> = {
  ACCESS_TOKEN: "token",
  API_TOKEN: "token",
  API_KEY: "api_key",
  ID_TOKEN: "id_token",
  BASE_URL: "base_url",
  REFRESH_TOKEN: null,
};

/** Python's `export_name_part`: upper case, runs of other characters become one `_`. */
export function exportNamePart(value: string): string {
  return value.toUpperCase().replace(/[^A-Z0-9]+/g, "_").replace(/^_+|_+$/g, "");
}

/** The native `env` mapping (name -> credential field) a v1 `export` section means. */
export function envOfV1(v1: ExportSource, source: string): Record<string, CredentialField> {
  const token: CredentialField = v1.auth_type === "oauth2" ? "access_token" : "api_key";
  const env: Record<string, CredentialField> = {};
  const exported = v1.export ?? {};
  const nested = exported["env"];
  // ExportV1Schema has checked every value is a string: String() only narrows the type.
  const pairs: [string, string, string][] = typeof nested === "object" && nested !== null
    ? Object.entries(nested).map(([field, name]) => [String(name), field, `export.env.${field}`])
    : Object.entries(exported).map(([name, field]) => [name, String(field), `export.${name}`]);
  for (const [name, raw, path] of pairs) {
    const field = _fieldOf(raw, path, source, token, nested === undefined);
    // v1 docs: refresh tokens are never exported; older files still list them.
    if (field !== null) env[name] = field;
  }
  // Python: `export.env.get(token_field, default_name)`; a flat map has no `env`, so the default too.
  const mapped = typeof nested === "object" && nested !== null && Object.hasOwn(nested, token);
  if (!mapped) env[`${exportNamePart(v1.name)}_${token === "api_key" ? "API_KEY" : "ACCESS_TOKEN"}`] = token;
  const envVar = v1.api_key?.env_var;
  if (envVar && !(envVar in env)) env[envVar] = "api_key";
  return env;
}

function _fieldOf(raw: string, path: string, source: string, token: CredentialField, flat: boolean): CredentialField | null {
  const upper = raw.toUpperCase();
  if (flat && upper === "API_URL") throw pluginError(source, path, "\"API_URL\" is not exported by authsome (it keeps no per-connection API URL): map BASE_URL or drop the entry");
  const known = flat && Object.hasOwn(FLAT_VALUES, upper) ? FLAT_VALUES[upper] : undefined;
  if (known !== undefined) return known === "token" ? token : known;
  const field = raw.toLowerCase();
  if (field === "refresh_token") return null;
  if (!isCredentialField(field)) throw pluginError(source, path, `unknown credential field "${raw}"`);
  return field;
}
