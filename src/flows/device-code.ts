/**
 * Device authorization grant (RFC 8628), for machines without a browser (SSH, containers):
 * show the verification URI and user code, open `verification_uri_complete` when there is a
 * browser, then poll the token endpoint at the server's interval, slowing down when told.
 */
import * as v from "valibot";
import { AuthsomeError } from "../core/errors.ts";
import { rememberClient, resolveAppClient } from "./app-client.ts";
import { requireEndpoint, resolveEndpoints } from "./discovery.ts";
import { ErrorResponseSchema, OAuthError, oauthError, postForm, requestToken, type TokenSet } from "./oauth-http.ts";
import { requestedScopes, toFlowResult } from "./pkce.ts";
import { showInstructions } from "./secret-input.ts";
import type { FlowContext, FlowResult } from "./types.ts";

/** The RFC 8628 grant type. */
export const DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";

const Seconds = v.union([v.number(), v.pipe(v.string(), v.toNumber())]);
const HttpUrl = v.pipe(v.string(), v.url());

/** RFC 8628 3.2 (`verification_url` is Google's spelling). */
export const DeviceAuthorizationSchema = v.object({
  device_code: v.pipe(v.string(), v.nonEmpty()),
  user_code: v.pipe(v.string(), v.nonEmpty()),
  verification_uri: v.optional(HttpUrl),
  verification_url: v.optional(HttpUrl),
  verification_uri_complete: v.optional(HttpUrl),
  expires_in: Seconds,
  interval: v.optional(Seconds),
});

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

async function _authorize(url: string, fields: Record<string, string>, context: FlowContext, client: Parameters<typeof postForm>[2]) {
  const name = context.plugin.displayName ?? context.plugin.name;
  const { status, body } = await postForm(url, fields, client, `${name} device authorization`);
  const failure = v.safeParse(ErrorResponseSchema, body);
  if (failure.success) throw oauthError(failure.output, `${name} refused the device authorization`, [client.clientSecret], "auth_failed");
  const parsed = v.safeParse(DeviceAuthorizationSchema, body);
  if (status !== 200 || !parsed.success) throw new AuthsomeError("provider_error", `${name} device authorization: unexpected HTTP ${status} response`);
  const verification = parsed.output.verification_uri ?? parsed.output.verification_url;
  if (verification === undefined) throw new AuthsomeError("provider_error", `${name} device authorization: no verification_uri in the response`);
  return { ...parsed.output, verification };
}

/** Runs the device authorization flow. */
export async function runDeviceCodeFlow(context: FlowContext): Promise<FlowResult> {
  const { plugin, interaction } = context;
  const name = plugin.displayName ?? plugin.name;
  const endpoints = await resolveEndpoints(plugin, context.baseUrl);
  const deviceUrl = requireEndpoint(endpoints, "deviceAuthorizationUrl", plugin, "device_code");
  const tokenUrl = requireEndpoint(endpoints, "tokenUrl", plugin, "device_code");
  const client = await resolveAppClient(context, { requireSecret: false });
  const scopes = requestedScopes(context);
  const fields: Record<string, string> = scopes.length > 0 ? { scope: scopes.join(plugin.oauth?.scopeSeparator ?? " ") } : {};
  const device = await _authorize(deviceUrl, fields, context, client);
  showInstructions(interaction, `To log in to ${name}, open ${device.verification}\nand enter the code: ${device.user_code}`);
  // Without a browser at hand openUrl only prints it: a link with the code filled in, to copy.
  if (device.verification_uri_complete !== undefined) await interaction.openUrl(device.verification_uri_complete);
  const started = Date.now();
  const interval = Math.max(1, device.interval ?? 5);
  interaction.notify(`Waiting for approval (the code expires in ${Math.round(device.expires_in / 60)} min; Ctrl-C to cancel)…`);
  let lastNote = started;
  const tokens = await pollForToken({
    poll: () => requestToken(tokenUrl, { grant_type: DEVICE_GRANT, device_code: device.device_code }, client, `${name} device login`),
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
  await rememberClient(context, client);
  return toFlowResult(tokens, client.clientId, scopes);
}
