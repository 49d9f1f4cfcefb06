/**
 * Registers the login flows and the token operations into core (src/core/flow-registry.ts) as
 * loaders: each flow's module is imported only when a login runs it, the token operations only
 * when a refresh or revoke is due, so this file costs a CLI start nothing but itself.
 */
import { registerFlow, registerTokenOperations } from "../core/flow-registry.ts";

/** Registers every bundled flow (idempotent). */
export function registerFlows(): void {
  registerFlow("api_key", async () => (await import("./api-key.ts")).runApiKeyFlow);
  registerFlow("pkce", async () => (await import("./pkce.ts")).runPkceFlow);
  registerFlow("device_code", async () => (await import("./device-code.ts")).runDeviceCodeFlow);
  registerFlow("client_credentials", async () => (await import("./client-credentials.ts")).runClientCredentialsFlow);
  registerFlow("dcr_pkce", async () => (await import("./dcr.ts")).runDcrFlow);
  registerTokenOperations(async () => (await import("./refresh.ts")).tokenOperations);
}
