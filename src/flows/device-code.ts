/**
 * Device authorization grant (RFC 8628), for machines without a browser (SSH, containers):
 * show the verification URI and user code, open `verification_uri_complete` when there is a
 * browser, then poll the token endpoint at the server's interval, slowing down when told.
 */
import * as oauth from "oauth4webapi";
import { AuthsomeError } from "../core/errors.ts";
import { type AppClient, rememberClient, resolveAppClient } from "./app-client.ts";
import { type OAuthEndpoints, requireEndpoint, resolveEndpoints } from "./discovery.ts";
import { authorizationServer, clientOf, mapError, requestOptions, withResources } from "./oauth-client.ts";
import { type DeviceCodeAnswer, pollDeviceCodeJson, requestDeviceCodeJson } from "./device-json.ts";
import { OAuthError, type TokenSet } from "./oauth-http.ts";
import { pluginResources, requestedScopes, toFlowResult } from "./pkce.ts";
import { showInstructions } from "./secret-input.ts";
import { pollDeviceCode } from "./token-client.ts";
import type { FlowContext, FlowResult } from "./types.ts";

/** The RFC 8628 grant type. */
export const DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";

/** What {@link pollForToken} needs; time and sleep are injected so tests need not wait. */
export interface PollOptions {
  /** One token request; throws an OAuthError with the server's error code. */
  poll(): Promise<TokenSet>;
  /** Seconds between polls (RFC 8628 3.5 default 5). */
  intervalSeconds: number;
  /** When the device code expires (ms since the epoch). */
  expiresAt: number;
  sleep(ms: number): Promise<void>;
  now(): number;
  /** Called after each pending answer. */
  onPending(secondsLeft: number, intervalSeconds: number): void;
}

const expired = () => new AuthsomeError("auth_failed", "the device code expired before the login was approved", { hint: "run the login again and approve it sooner" });

/** Polls until the user approves, denies, or the code expires (RFC 8628 3.4, 3.5). */
export async function pollForToken(options: PollOptions): Promise<TokenSet> {
  let interval = options.intervalSeconds;
  for (;;) {
    await options.sleep(interval * 1000);
    if (options.now() >= options.expiresAt) throw expired();
    try {
      return await options.poll();
    } catch (error) {
      if (!(error instanceof OAuthError)) throw error;
      if (error.oauthCode === "slow_down") interval += 5;
      else if (error.oauthCode === "access_denied") throw new AuthsomeError("auth_cancelled", "the login was denied in the browser", { hint: "run the login again and choose Allow" });
      else if (error.oauthCode === "expired_token") throw expired();
      else if (error.oauthCode !== "authorization_pending") throw new AuthsomeError("auth_failed", error.message);
      options.onPending(Math.max(0, Math.round((options.expiresAt - options.now()) / 1000)), interval);
    }
  }
}

function _sleeper(signal: AbortSignal | undefined, stopAt: number, timeoutMs: number): (ms: number) => Promise<void> {
  return (ms) => new Promise((resolve, reject) => {
    if (Date.now() + ms > stopAt) {
      reject(new AuthsomeError("auth_cancelled", `the login was not approved within ${Math.round(timeoutMs / 1000)} s`, { hint: "run the login again (--timeout SECONDS waits longer)" }));
      return;
    }
    const onAbort = () => (clearTimeout(timer), reject(new AuthsomeError("auth_cancelled", "login cancelled")));
    const timer = setTimeout(() => (signal?.removeEventListener("abort", onAbort), resolve()), ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

async function _authorize(endpoints: OAuthEndpoints, params: URLSearchParams, context: FlowContext, client: AppClient): Promise<oauth.DeviceAuthorizationResponse> {
  const name = context.plugin.displayName ?? context.plugin.name;
  const as = authorizationServer(endpoints);
  const { client: who, auth } = clientOf(client);
  const call = {
    what: `${name} refused the device authorization`,
    secrets: [client.clientSecret],
    errorCode: "auth_failed" as const,
    // RFC 8628 3.2 says verification_uri; Google spells it verification_url.
    patch: (body: Record<string, unknown>) => {
      if (body["verification_uri"] === undefined && typeof body["verification_url"] === "string") body["verification_uri"] = body["verification_url"];
      // Some send the numbers as strings ("expires_in": "1800").
      for (const member of ["expires_in", "interval"]) if (typeof body[member] === "string") body[member] = Number(body[member]);
    },
  };
  const url = endpoints.deviceAuthorizationUrl ?? "";
  try {
    const response = await oauth.deviceAuthorizationRequest(as, who, auth, params, requestOptions(call, url));
    return await oauth.processDeviceAuthorizationResponse(as, who, response);
  } catch (error) {
    throw mapError(error, call, url);
  }
}

/** The two requests of a device login, by the plugin's protocol (RFC 8628, or device-json.ts). */
interface DeviceProtocol {
  /** The OAuth client, when there is one (the JSON protocol has none unless given). */
  clientId: string | undefined;
  authorize(): Promise<DeviceCodeAnswer>;
  poll(deviceCode: string): Promise<TokenSet>;
  /** After the login worked: keep a first-use client. */
  remember(): Promise<void>;
}

async function _protocol(context: FlowContext, endpoints: OAuthEndpoints, params: URLSearchParams, resources: string[]): Promise<DeviceProtocol> {
  const name = context.plugin.displayName ?? context.plugin.name;
  const deviceAuthorizationUrl = requireEndpoint(endpoints, "deviceAuthorizationUrl", context.plugin, "device_code");
  const tokenUrl = requireEndpoint(endpoints, "tokenUrl", context.plugin, "device_code");
  if (context.plugin.oauth?.deviceTokenRequest === "json") {
    // No client to ask for: the service's own protocol has none (a --client-id is still sent).
    const clientId = context.clientId ?? context.savedClient?.client_id;
    return {
      clientId,
      authorize: () => requestDeviceCodeJson(deviceAuthorizationUrl, params, clientId, { what: `${name} refused the device authorization`, secrets: [], errorCode: "auth_failed" }),
      poll: (code) => pollDeviceCodeJson(tokenUrl, code, { what: `${name} device login`, secrets: [code] }),
      remember: async () => {},
    };
  }
  const client = await resolveAppClient(context, { requireSecret: false });
  const grant = { endpoints: { ...endpoints, tokenUrl }, client, resources, what: `${name} device login` };
  return {
    clientId: client.clientId,
    authorize: () => _authorize({ ...endpoints, deviceAuthorizationUrl }, params, context, client),
    poll: (code) => pollDeviceCode(grant, code),
    remember: () => rememberClient(context, client),
  };
}

/** Runs the device authorization flow. */
export async function runDeviceCodeFlow(context: FlowContext): Promise<FlowResult> {
  const { plugin, interaction } = context;
  const name = plugin.displayName ?? plugin.name;
  const endpoints = await resolveEndpoints(plugin, context.baseUrl);
  const scopes = requestedScopes(context);
  const resources = pluginResources(plugin, context.baseUrl);
  const params = withResources(resources, scopes.length > 0 ? { scope: scopes.join(plugin.oauth?.scopeSeparator ?? " ") } : {});
  const protocol = await _protocol(context, endpoints, params, resources);
  const device = await protocol.authorize();
  showInstructions(interaction, `To log in to ${name}, open ${device.verification_uri}\nand enter the code: ${device.user_code}`);
  // Without a browser at hand openUrl only prints it: a link with the code filled in, to copy.
  if (device.verification_uri_complete !== undefined) await interaction.openUrl(device.verification_uri_complete);
  const started = Date.now();
  const interval = Math.max(1, device.interval ?? 5);
  interaction.notify(`Waiting for approval (the code expires in ${Math.round(device.expires_in / 60)} min; Ctrl-C to cancel)…`);
  let lastNote = started;
  const tokens = await pollForToken({
    poll: () => protocol.poll(device.device_code),
    intervalSeconds: interval,
    expiresAt: started + device.expires_in * 1000,
    sleep: _sleeper(interaction.signal, started + context.timeoutMs, context.timeoutMs),
    now: Date.now,
    onPending: (left, every) => {
      if (Date.now() - lastNote < 15_000) return;
      lastNote = Date.now();
      interaction.notify(`…still waiting (${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")} left, polling every ${every} s)`);
    },
  });
  await protocol.remember();
  const { clientId: _none, ...result } = toFlowResult(tokens, protocol.clientId ?? "", scopes);
  return protocol.clientId === undefined ? result : { ...result, clientId: protocol.clientId };
}
