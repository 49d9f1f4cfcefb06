/**
 * The OAuth app a login uses: the client id from `--client-id` or the vault (ids are not
 * secret), and the client secret from the vault (saved at first use), else stdin when stdin is
 * not a terminal (empty = a public client), else the local form. Never from argv.
 */
import { AuthsomeError } from "../core/errors.ts";
import type { ProviderPlugin } from "../core/plugin.ts";
import type { ClientSecrets } from "../core/records.ts";
import type { ClientAuth } from "./oauth-http.ts";
import type { FlowContext } from "./types.ts";

/** An app client, and whether it is new to the vault (saved once the login succeeds). */
export interface AppClient extends ClientAuth {
  fresh: boolean;
}

/** The plugin's token-endpoint authentication method. */
export function clientAuthMethod(plugin: ProviderPlugin): "client_secret_basic" | "client_secret_post" {
  return plugin.oauth?.clientAuth ?? "client_secret_basic";
}

/** The client a stored connection was issued to, with its saved secret when the ids match. */
export function clientForConnection(plugin: ProviderPlugin, clientId: string | undefined, saved: ClientSecrets | null): ClientAuth {
  const id = clientId ?? saved?.client_id;
  if (id === undefined) throw new AuthsomeError("needs_login", `no OAuth client is recorded for ${plugin.name}`, { hint: `log in again: authsome login ${plugin.name} --client-id ID --force` });
  const secret = saved?.client_id === id ? saved.client_secret : undefined;
  return { clientId: id, method: clientAuthMethod(plugin), ...(secret === undefined ? {} : { clientSecret: secret }) };
}

function _checkSecret(value: string, required: boolean): string | null {
  if (value === "") return required ? "this flow needs a client secret" : null;
  if (/\s/.test(value)) return "the client secret contains white space";
  return null;
}

async function _readSecret(context: FlowContext, required: boolean): Promise<string> {
  const piped = await context.interaction.readPipedSecret();
  if (piped !== undefined) {
    const problem = _checkSecret(piped.trim(), required);
    if (problem !== null) throw new AuthsomeError("usage", `client secret read from stdin refused: ${problem}`, { hint: "pipe the secret on stdin, e.g. `authsome login ... < secret.txt`" });
    return piped.trim();
  }
  const { collectSecretWithForm } = await import("../server/api-key-form.ts");
  return collectSecretWithForm({
    plugin: context.plugin,
    connection: context.connection,
    interaction: context.interaction,
    timeoutMs: context.timeoutMs,
    label: "client secret",
    optional: !required,
    validate: (value) => _checkSecret(value, required),
  });
}

/** Resolves the app client for a login; `requireSecret` for client credentials. */
export async function resolveAppClient(context: FlowContext, options: { requireSecret: boolean }): Promise<AppClient> {
  const { plugin } = context;
  const id = context.clientId ?? context.savedClient?.client_id;
  if (id === undefined || id === "") {
    throw new AuthsomeError("usage", `${plugin.displayName ?? plugin.name} needs an OAuth app: register one and pass its id with --client-id`, {
      hint: `see docs/providers.md; the secret (if any) is read from stdin or a local form, never from argv`,
    });
  }
  const method = clientAuthMethod(plugin);
  const saved = context.savedClient?.client_id === id ? context.savedClient : undefined;
  if (saved !== undefined && (saved.client_secret !== undefined || !options.requireSecret)) {
    return { clientId: id, method, fresh: false, ...(saved.client_secret === undefined ? {} : { clientSecret: saved.client_secret }) };
  }
  const secret = await _readSecret(context, options.requireSecret);
  return { clientId: id, method, fresh: true, ...(secret === "" ? {} : { clientSecret: secret }) };
}

/** Saves a first-use client in the vault (after the login worked, so a mistyped secret is not kept). */
export async function rememberClient(context: FlowContext, client: AppClient): Promise<void> {
  if (!client.fresh || context.saveClient === undefined) return;
  await context.saveClient({ client_id: client.clientId, ...(client.clientSecret === undefined ? {} : { client_secret: client.clientSecret }) });
}
