/**
 * Login flows, loaded lazily by name so a CLI start pays only for the flow it runs.
 */
import { AuthsomeError } from "../core/errors.ts";
import type { FlowName } from "../core/plugin.ts";
import type { FlowContext, FlowResult } from "./types.ts";

type FlowRunner = (context: FlowContext) => Promise<FlowResult>;

const flows: Partial<Record<FlowName, () => Promise<FlowRunner>>> = {
  api_key: async () => (await import("./api-key.ts")).runApiKeyFlow,
  pkce: async () => (await import("./pkce.ts")).runPkceFlow,
  device_code: async () => (await import("./device-code.ts")).runDeviceCodeFlow,
  client_credentials: async () => (await import("./client-credentials.ts")).runClientCredentialsFlow,
  dcr_pkce: async () => (await import("./dcr.ts")).runDcrFlow,
};

/** Runs a login flow by name. */
export async function runFlow(name: FlowName, context: FlowContext): Promise<FlowResult> {
  const load = flows[name];
  if (load === undefined) {
    throw new AuthsomeError("usage", `the ${name} flow is not available in this version of authsome`);
  }
  return (await load())(context);
}
