/**
 * The device flow of `oauth.deviceTokenRequest: "json"`: a service's own device protocol, as
 * the Python authsome speaks it for Postiz (its `device_token_request: "json"`, matching
 * Postiz's CLI). There is no OAuth client: the code request is the RFC 8628 3.1 form with
 * `client_id` and `scope` only when given, and each token poll is a JSON body holding only
 * `{"device_code": ...}` (no grant_type, no client). Answers are read as the RFC ones are:
 * an `error` member at any status is an OAuthError, so `authorization_pending`, `slow_down`
 * and the rest drive the same polling loop (device-code.ts).
 */
import * as oauth from "oauth4webapi";
import * as v from "valibot";
import { AuthsomeError } from "../core/errors.ts";
import { mapError, requestOptions, toTokenSet, type CallOptions } from "./oauth-client.ts";
import type { TokenSet } from "./oauth-http.ts";

/** The RFC 8628 3.2 answer, as the flow uses it. */
export interface DeviceCodeAnswer {
  device_code: string;
  user_code: string;
  verification_uri: string;
  verification_uri_complete?: string;
  expires_in: number;
  interval?: number;
}

// Some services send the numbers as strings; Google spells the URI verification_url.
const Seconds = v.pipe(v.union([v.number(), v.pipe(v.string(), v.decimal())]), v.transform(Number), v.minValue(1));
const DeviceSchema = v.object({
  device_code: v.pipe(v.string(), v.nonEmpty()),
  user_code: v.pipe(v.string(), v.nonEmpty()),
  verification_uri: v.optional(v.string()),
  verification_url: v.optional(v.string()),
  verification_uri_complete: v.optional(v.string()),
  expires_in: Seconds,
  interval: v.optional(Seconds),
});
const TokenSchema = v.object({
  access_token: v.pipe(v.string(), v.nonEmpty()),
  token_type: v.optional(v.string()),
  refresh_token: v.optional(v.string()),
  expires_in: v.optional(v.number()),
  scope: v.optional(v.string()),
});

/** POSTs `body` with the flows' deadline, error mapping and loopback-only plain HTTP; returns the JSON answer. */
async function _post(url: string, body: { form: URLSearchParams } | { json: Record<string, string> }, call: CallOptions): Promise<unknown> {
  const options = requestOptions(call, url);
  if (new URL(url).protocol !== "https:" && options[oauth.allowInsecureRequests] !== true) {
    throw mapError(new oauth.OperationProcessingError("plain http", { code: oauth.HTTP_REQUEST_FORBIDDEN }), call, url);
  }
  const init: RequestInit = "form" in body
    ? { method: "POST", headers: { accept: "application/json", "content-type": "application/x-www-form-urlencoded" }, body: body.form }
    : { method: "POST", headers: { accept: "application/json", "content-type": "application/json" }, body: JSON.stringify(body.json) };
  // requestOptions' fetch turns an `error` body into an OAuthError, whatever the status.
  const response = await options[oauth.customFetch](url, { ...init, signal: options.signal() });
  if (!response.ok) throw new AuthsomeError("provider_error", `${call.what}: HTTP ${response.status} from ${new URL(url).host}`);
  return await response.json().catch(() => undefined);
}

function _parse<T extends v.GenericSchema>(schema: T, value: unknown, call: CallOptions): v.InferOutput<T> {
  const parsed = v.safeParse(schema, value);
  if (parsed.success) return parsed.output;
  const [issue] = parsed.issues;
  const field = issue.path?.map((p) => String(p.key)).join(".") ?? "";
  throw new AuthsomeError("provider_error", `${call.what}: missing or invalid '${field || "body"}' in the answer`);
}

/** The device code request: a form with `client_id`/`scope` only when there are some. */
export async function requestDeviceCodeJson(url: string, params: URLSearchParams, clientId: string | undefined, call: CallOptions): Promise<DeviceCodeAnswer> {
  const form = new URLSearchParams(params);
  if (clientId !== undefined) form.set("client_id", clientId);
  const answer = _parse(DeviceSchema, await _post(url, { form }, call), call);
  const uri = answer.verification_uri ?? answer.verification_url;
  if (uri === undefined) throw new AuthsomeError("provider_error", `${call.what}: missing or invalid 'verification_uri' in the answer`);
  return {
    device_code: answer.device_code,
    user_code: answer.user_code,
    verification_uri: uri,
    expires_in: answer.expires_in,
    ...(answer.verification_uri_complete === undefined ? {} : { verification_uri_complete: answer.verification_uri_complete }),
    ...(answer.interval === undefined ? {} : { interval: answer.interval }),
  };
}

/** One token poll: `{"device_code": ...}` as JSON; pending and the like arrive as OAuthErrors. */
export async function pollDeviceCodeJson(url: string, deviceCode: string, call: CallOptions): Promise<TokenSet> {
  const answer = _parse(TokenSchema, await _post(url, { json: { device_code: deviceCode } }, call), call);
  return toTokenSet({ ...answer, token_type: _lower(answer.token_type ?? "bearer") });
}

// RFC 6749 7.1: the type is case-insensitive (oauth4webapi's type holds it lower-cased).
function _lower<T extends string>(text: T): Lowercase<T> {
  return text.toLowerCase() as Lowercase<T>;
}
