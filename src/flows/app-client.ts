/**
 * The OAuth app a login uses: the client id from `--client-id` or the vault (ids are not
 * secret), and the client secret from the vault (saved at first use), else stdin when stdin is
 * not a terminal (empty = a public client), else a hidden prompt or the local form
 * (src/flows/secret-input.ts). Never from argv. Without any client id, the user is shown how
 * to register an app and, at a terminal, asked for the id and secret.
 */
import { AuthsomeError } from "../core/errors.ts";
import type { ProviderPlugin } from "../core/plugin.ts";
import type { ClientSecrets } from "../core/records.ts";
import type { ClientAuth } from "./oauth-http.ts";
import { appRegistrationHelp } from "./app-registration.ts";
import { resolveRedirectUri } from "./redirect.ts";
import { collectSecret, promptSecret, showInstructions } from "./secret-input.ts";
import type { FlowContext, LoginInteraction } from "./types.ts";

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

const SECRET_LABEL = "client secret";

/** Asks for the client id (and secret) at the terminal, after the registration help. */
async function _askClient(context: FlowContext, required: boolean, prompt: NonNullable<LoginInteraction["prompt"]>, help: string[]): Promise<{ id: string; secret: string }> {
  showInstructions(context.interaction, help.join("\n"));
  const id = (await prompt("Client id: ", { hidden: false, timeoutMs: context.timeoutMs })).trim();
  if (id === "" || /\s/.test(id)) throw new AuthsomeError("usage", id === "" ? "no client id was typed" : "the client id contains white space", { hint: `run the login again, or pass it: authsome login ${context.plugin.name} --client-id <ID>` });
  const secret = await promptSecret(context, { label: SECRET_LABEL, optional: !required, validate: (value) => _checkSecret(value, required) }, prompt);
  return { id, secret };
}

/** Resolves the app client for a login; `requireSecret` for client credentials. */
export async function resolveAppClient(context: FlowContext, options: { requireSecret: boolean }): Promise<AppClient> {
  const { plugin } = context;
  const method = clientAuthMethod(plugin);
  const id = context.clientId ?? context.savedClient?.client_id;
  if (id === undefined || id === "") {
    const help = appRegistrationHelp(plugin, resolveRedirectUri(plugin, context.redirectPort));
    const prompt = context.interaction.prompt;
    if (prompt === undefined) {
      throw new AuthsomeError("usage", `${plugin.displayName ?? plugin.name} needs an OAuth client id: register an app and pass its id with --client-id`, { hint: help.join("\n  ") });
    }
    const asked = await _askClient(context, options.requireSecret, prompt, help);
    return { clientId: asked.id, method, fresh: true, ...(asked.secret === "" ? {} : { clientSecret: asked.secret }) };
  }
  const saved = context.savedClient?.client_id === id ? context.savedClient : undefined;
  if (saved !== undefined && (saved.client_secret !== undefined || !options.requireSecret)) {
    return { clientId: id, method, fresh: false, ...(saved.client_secret === undefined ? {} : { clientSecret: saved.client_secret }) };
  }
  const secret = await collectSecret(context, { label: SECRET_LABEL, optional: !options.requireSecret, validate: (value) => _checkSecret(value, options.requireSecret) });
  return { clientId: id, method, fresh: true, ...(secret === "" ? {} : { clientSecret: secret }) };
}

/** Saves a first-use client in the vault (after the login worked, so a mistyped secret is not kept). */
export async function rememberClient(context: FlowContext, client: AppClient): Promise<void> {
  if (!client.fresh || context.saveClient === undefined) return;
  await context.saveClient({ client_id: client.clientId, ...(client.clientSecret === undefined ? {} : { client_secret: client.clientSecret }) });
}
