/**
 * The one screen a user sees when an OAuth login has no client id: where to register an app
 * (the plugin's docs URL), the exact redirect URI to enter, and which flows need a secret.
 */
import type { FlowName, ProviderPlugin } from "../core/plugin.ts";

const FLOW_NOTES: Record<FlowName, string> = {
  pkce: "browser login on this machine; a client secret only if the app has one (public clients have none)",
  device_code: "for SSH and machines without a browser (enable the device flow in the app); a client secret only if the app has one",
  client_credentials: "machine to machine; needs the client secret",
  dcr_pkce: "needs no app: authsome registers itself with the provider",
  api_key: "an API key, no app",
};

/** The lines explaining how to register an OAuth app for `plugin`. */
export function appRegistrationHelp(plugin: ProviderPlugin, redirectUri: string): string[] {
  const name = plugin.displayName ?? plugin.name;
  const flows = plugin.flows ?? ["pkce"];
  const lines = [
    `${name} logins need an OAuth app of your own (authsome ships no shared client id).`,
    `Register one: ${plugin.docsUrl ?? `in ${name}'s developer settings`}`,
  ];
  if (flows.includes("pkce")) lines.push(`Redirect URI (callback URL) to enter: ${redirectUri}`);
  lines.push("Flows:");
  for (const flow of flows) lines.push(`  --flow ${flow}: ${FLOW_NOTES[flow]}`);
  lines.push(`Then: authsome login ${plugin.name} --client-id <ID> (a secret is asked for or read from stdin, never argv)`);
  return lines;
}
