/**
 * What authsome does when a server refuses an injected token, the same for the interceptor, the
 * proxy and the stdio bridge: a 401/403 with `insufficient_scope` (RFC 6750 3.1) is a step-up
 * request, audited (`mcp_step_up`) and recorded for `mcp list` and the next `authsome login
 * <url>`, which then asks for the union of scopes; a plain 401 means the token is dead, so it
 * is marked expired (if it is still the stored one) and the next read refreshes it. Neither
 * retries anything itself: the caller allows one retry, never more.
 */
import type { InjectionDecision } from "../core/injector.ts";
import type { ServiceCore } from "../core/service.ts";
import { isInsufficientScope, parseBearerChallenge } from "./challenge.ts";
import { recordStepUp } from "./provider.ts";

/** What a refusal was taken for. */
export type Refusal = "step_up" | "expired" | null;

/** Records a step-up request for `provider/connection` (audit + the server's step-up file). */
export async function noteStepUp(core: ServiceCore, provider: string, connection: string, scopes: string[], host: string, method: string, status: number): Promise<void> {
  await recordStepUp(core.context.home, provider, `${core.context.profile}/${connection}`, scopes, host);
  await core.record({ action: "mcp_step_up", provider, connection, host, method, status, outcome: "denied", error: "insufficient_scope" });
}

/**
 * Marks the stored token expired when `isCurrent(secrets)` says the refused token is still the
 * stored one. Under the connection lock a refresh holds from its read to its write: marking the
 * record in between would make that refresh keep the changed record and drop its rotated
 * refresh token, and the next refresh would replay the used one (the grant would die).
 */
export async function expireToken(core: ServiceCore, provider: string, connection: string, isCurrent: (accessToken: string | undefined) => boolean): Promise<boolean> {
  const vault = await core.vault();
  return vault.withConnectionLock(provider, connection, () =>
    vault.withProviderLock(provider, async () => {
      const found = await vault.read(provider, connection);
      if (found === null || !isCurrent(found.secrets.access_token)) return false;
      await vault.write({ ...found.meta, expiresAt: new Date(0).toISOString(), updatedAt: new Date().toISOString() }, found.secrets);
      return true;
    }));
}

/** True when an injected request's header values carry `token` (the refused one is still stored). */
function _carried(injection: InjectionDecision, token: string | undefined): boolean {
  return token !== undefined && token !== "" && Object.values(injection.headers).some((value) => value.includes(token));
}

/**
 * Looks at an injected request's 401/403: a step-up request is recorded, a dead token expired.
 * Cheap to call for every response: anything but 401/403 returns at once.
 */
export async function noteRefusal(core: ServiceCore, injection: InjectionDecision, status: number, wwwAuthenticate: string | null, host: string, method: string): Promise<Refusal> {
  if (status !== 401 && status !== 403) return null;
  const challenge = parseBearerChallenge(wwwAuthenticate);
  if (isInsufficientScope(status, challenge)) {
    await noteStepUp(core, injection.provider, injection.connection, challenge?.scope ?? [], host, method, status);
    return "step_up";
  }
  if (status !== 401 || injection.sign !== undefined) return null;
  return (await expireToken(core, injection.provider, injection.connection, (token) => _carried(injection, token))) ? "expired" : null;
}
